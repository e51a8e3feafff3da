/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Archives through the library: save and load round trips in both formats,
 * layouts, import, names, broken input, and allocation failures on every
 * path (in a -Dfailmalloc=true build).
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <signal.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "tap.h"

#define MUST(x)                                                                                  \
	do {                                                                                     \
		if ((x) < 0) {                                                                   \
			printf("Bail out! %s failed\n", #x);                                      \
			exit(1);                                                                 \
		}                                                                                \
	} while (0)

static const struct kiln_ctx ctx = { .log_level = KILN_LOG_ERROR };
static char root[64];

static char *path(const char *rel)
{
	char *p = kiln_asprintf("%s/%s", root, rel);
	if (!p)
		exit(1);
	return p;
}

/* A tar with the given members (name, content; content NULL = directory). */
static void make_tar(const char *file, const char *const *members, size_t n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	MUST(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK ? 0 : -1);
	MUST(archive_write_open_filename(a, file) == ARCHIVE_OK ? 0 : -1);
	for (size_t i = 0; i < n; i += 2) {
		archive_entry_clear(e);
		archive_entry_set_pathname(e, members[i]);
		archive_entry_set_filetype(e, members[i + 1] ? AE_IFREG : AE_IFDIR);
		archive_entry_set_perm(e, members[i + 1] ? 0644 : 0755);
		archive_entry_set_size(e, members[i + 1] ? (la_int64_t)strlen(members[i + 1]) : 0);
		MUST(archive_write_header(a, e) == ARCHIVE_OK ? 0 : -1);
		if (members[i + 1])
			MUST(archive_write_data(a, members[i + 1], strlen(members[i + 1])) < 0 ? -1 : 0);
	}
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
}

static int count_images(struct kiln_store *st)
{
	struct kiln_store_image_list l = { 0 };
	MUST(kiln_store_image_list(st, &l, NULL));
	int n = (int)l.len;
	kiln_store_image_list_release(&l);
	return n;
}

static void test_round_trips(struct kiln_store *st, struct kiln_digest *img)
{
	cleanup_free char *rootfs = path("rootfs.tar");
	static const char *const files[] = { "etc", NULL, "etc/hostname", "kiln\n",
					     "bin", NULL, "bin/hello", "#!/bin/sh\necho hi\n" };
	make_tar(rootfs, files, KILN_ARRAY_SIZE(files));
	struct kiln_store_import_opts io = { .name = "docker.io/library/t:1", .created = 1704067200 };
	struct kiln_error err = KILN_ERROR_INIT;
	TAP_OK(kiln_store_import(st, rootfs, &io, img, &err) == 0, "import a tar (%s)",
	       err.msg ? err.msg : "ok");
	kiln_error_release(&err);
	struct kiln_digest again;
	TAP_OK(kiln_store_import(st, rootfs, &io, &again, NULL) == 0 &&
		       kiln_digest_equal(img, &again),
	       "the same tar at the same time gives the same image");

	struct kiln_store_save_item item = { *img, "docker.io/library/t:1", NULL };
	for (int oci = 0; oci < 2; oci++) {
		cleanup_free char *out = path(oci ? "t-oci.tar" : "t-docker.tar");
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		TAP_OK(fd >= 0 && kiln_store_save(st, &item, 1,
						   oci ? KILN_ARCHIVE_OCI : KILN_ARCHIVE_DOCKER, fd,
						   NULL) == 0,
		       "save as %s", oci ? "oci-archive" : "docker-archive");
		close(fd);
		cleanup_free char *other = path(oci ? "store-oci" : "store-docker");
		cleanup(kiln_store_closep) struct kiln_store *o = NULL;
		MUST(kiln_store_open(&ctx, other, 0, &o, NULL));
		struct kiln_store_load_result res = { 0 };
		TAP_OK(kiln_store_load(o, out, KILN_ARCHIVE_AUTO, &res, &err) == 0 && res.len == 1 &&
			       res.items[0].names.len == 1 &&
			       strcmp(res.items[0].names.items[0], "docker.io/library/t:1") == 0,
		       "load it back with its name (%s)", err.msg ? err.msg : "ok");
		kiln_error_release(&err);
		TAP_INT_EQ(res.format, oci ? KILN_ARCHIVE_OCI : KILN_ARCHIVE_DOCKER,
			   "format detected");
		struct kiln_store_image *a = NULL, *b = NULL;
		MUST(kiln_store_image_get(st, img, &a, NULL));
		if (res.len)
			MUST(kiln_store_image_get(o, &res.items[0].manifest, &b, NULL));
		TAP_OK(b && kiln_digest_equal(&a->config, &b->config), "same image id");
		if (oci)
			TAP_OK(b && kiln_digest_equal(&a->manifest, &b->manifest),
			       "oci-archive keeps the manifest digest");
		else
			TAP_STR_EQ(b ? b->media_type : NULL, KILN_MT_DOCKER_MANIFEST,
				   "docker-archive gets a docker manifest");
		kiln_store_image_free(a);
		kiln_store_image_free(b);
		kiln_store_load_result_release(&res);
		struct kiln_store_fsck_report rep = { 0 };
		TAP_OK(kiln_store_fsck(o, 0, &rep, NULL) == 0 && rep.n_problems == 0,
		       "the loading store is consistent");
		kiln_store_fsck_report_release(&rep);
	}

	cleanup_free char *layout = path("layout");
	TAP_OK(kiln_store_layout_write(st, layout, &item, 1, NULL) == 0, "write a layout");
	TAP_OK(kiln_store_layout_write(st, layout, &item, 1, NULL) == 0, "write it again");
	cleanup_free char *index = path("layout/index.json");
	cleanup_free char *idx = NULL;
	size_t len = 0;
	MUST(kiln_read_file(index, 1 << 20, &idx, &len, NULL));
	cleanup(kiln_oci_index_freep) struct kiln_oci_index *x = NULL;
	TAP_OK(kiln_oci_index_parse(idx, len, &x, NULL) == 0 && x->n_manifests == 1,
	       "the second write replaced the entry");
	TAP_STR_EQ(x ? kiln_oci_map_get(&x->manifests[0].annotations, KILN_ANNOT_REF_NAME) : NULL,
		   "1", "ref name is the tag");
	cleanup_free char *other = path("store-layout");
	cleanup(kiln_store_closep) struct kiln_store *o = NULL;
	MUST(kiln_store_open(&ctx, other, 0, &o, NULL));
	struct kiln_store_load_result res = { 0 };
	TAP_OK(kiln_store_layout_load(o, layout, NULL, &res, NULL) == 0 && res.len == 1,
	       "load the layout");
	kiln_store_load_result_release(&res);
}

static void test_bad_archives(void)
{
	cleanup_free char *other = path("store-bad");
	cleanup(kiln_store_closep) struct kiln_store *o = NULL;
	MUST(kiln_store_open(&ctx, other, 0, &o, NULL));
	static const char *const escape[] = { "../evil", "x" };
	static const char *const no_meta[] = { "readme", "hello" };
	static const char *const bad_json[] = { "manifest.json", "[{" };
	static const char *const missing[] = {
		"manifest.json", "[{\"Config\":\"c.json\",\"RepoTags\":[\"x:1\"],\"Layers\":[\"l.tar\"]}]"
	};
	static const char *const not_layer[] = {
		"c.json",
		/* one string, split in two lines */
		("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		 "\"diff_ids\":[\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"]}}"),
		"l.tar", "this is not a tar",
		"manifest.json", "[{\"Config\":\"c.json\",\"RepoTags\":null,\"Layers\":[\"l.tar\"]}]"
	};
	static const char *const bad_blob[] = {
		"oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}",
		"blobs/sha256/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", "jello",
		"index.json", "{\"schemaVersion\":2,\"manifests\":[]}"
	};
	static const struct {
		const char *name;
		const char *const *m;
		size_t n;
		int code;
		const char *msg;
	} cases[] = {
		{ "escaping member", escape, 2, -KILN_EPARSE, "refusing member name" },
		{ "no metadata", no_meta, 2, -KILN_EPARSE, "neither a docker-archive nor" },
		{ "bad manifest.json", bad_json, 2, -KILN_EPARSE, "manifest.json" },
		{ "missing config", missing, 2, -KILN_ENOTFOUND, "missing from the archive" },
		{ "layer that is no tar", not_layer, 6, -KILN_EPARSE, "cannot be unpacked" },
		{ "blob with a wrong digest", bad_blob, 6, -KILN_EDIGEST, "does not match" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		cleanup_free char *f = path("bad.tar");
		make_tar(f, cases[i].m, cases[i].n);
		struct kiln_store_load_result res = { 0 };
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_store_load(o, f, KILN_ARCHIVE_AUTO, &res, &err);
		TAP_OK(r == cases[i].code && err.msg && strstr(err.msg, cases[i].msg),
		       "%s: %d %s", cases[i].name, r, err.msg ? err.msg : "");
		kiln_error_release(&err);
		kiln_store_load_result_release(&res);
	}
	TAP_INT_EQ(count_images(o), 0, "bad archives recorded no image");
	struct kiln_store_fsck_report rep = { 0 };
	TAP_OK(kiln_store_fsck(o, 0, &rep, NULL) == 0 && rep.n_problems == 0 && rep.temp_files == 0,
	       "and left a consistent store without temp files");
	kiln_store_fsck_report_release(&rep);
}

/* Every operation, failing its 1st, 2nd, ... allocation until it succeeds. */
static int torture_one(struct kiln_store *st, const struct kiln_digest *img, int op)
{
	struct kiln_error err = KILN_ERROR_INIT;
	int r = 0;
	switch (op) {
	case 0: {
		struct kiln_store_image_list l = { 0 };
		r = kiln_store_image_list(st, &l, &err);
		kiln_store_image_list_release(&l);
		break;
	}
	case 1: {
		struct kiln_digest d;
		r = kiln_store_resolve(st, "t:1", &d, &err);
		break;
	}
	case 2: {
		char *s = NULL;
		size_t n;
		r = kiln_store_inspect(st, img, &s, &n, &err);
		free(s);
		break;
	}
	case 3: {
		struct kiln_store_fsck_report rep = { 0 };
		r = kiln_store_fsck(st, 0, &rep, &err);
		kiln_store_fsck_report_release(&rep);
		break;
	}
	case 4: {
		cleanup_free char *out = path("torture.tar");
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		struct kiln_store_save_item item = { *img, "docker.io/library/t:1", NULL };
		r = kiln_store_save(st, &item, 1, KILN_ARCHIVE_DOCKER, fd, &err);
		close(fd);
		break;
	}
	case 5: {
		cleanup_free char *in = path("t-oci.tar");
		struct kiln_store_load_result res = { 0 };
		r = kiln_store_load(st, in, KILN_ARCHIVE_AUTO, &res, &err);
		kiln_store_load_result_release(&res);
		break;
	}
	case 6: {
		struct kiln_store_rmi_result res = { 0 };
		r = kiln_store_tag(st, img, "docker.io/library/t:tmp", &err);
		if (r == 0)
			r = kiln_store_rmi(st, "t:tmp", 0, &res, &err);
		kiln_store_rmi_result_release(&res);
		break;
	}
	}
	kiln_error_release(&err);
	return r;
}

static void test_alloc_failures(struct kiln_store *st, const struct kiln_digest *img)
{
	static const char *const names[] = { "list", "resolve", "inspect", "fsck",
					     "save",  "load",    "tag+rmi" };
	for (int op = 0; op < (int)KILN_ARRAY_SIZE(names); op++) {
		int bad = 0, n;
		for (n = 1; n < 100000; n++) {
			kiln_alloc_fail_after(n);
			int r = torture_one(st, img, op);
			kiln_alloc_fail_after(-1);
			if (r == 0)
				break;
			if (r != -KILN_ENOMEM && !bad) {
				bad = 1;
				tap_diag("%s: failing allocation %d gave %d", names[op], n, r);
			}
		}
		TAP_OK(!bad && n < 100000, "%s survives allocation failures (%d passes)", names[op],
		       n);
	}
	struct kiln_store_fsck_report rep = { 0 };
	TAP_OK(kiln_store_fsck(st, 0, &rep, NULL) == 0 && rep.n_problems == 0,
	       "the store is consistent after them");
	kiln_store_fsck_report_release(&rep);
}

/* An interrupt stops a save and a layout write: they fail, ECANCEL. */
static void test_interrupted(const struct kiln_digest *img)
{
	atomic_int stop = 1;
	struct kiln_ctx c = ctx;
	c.cancel = &stop;
	cleanup_free char *store = path("store");
	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	MUST(kiln_store_open(&c, store, 0, &st, NULL));
	struct kiln_store_save_item item = { *img, "docker.io/library/t:1", NULL };
	cleanup_free char *out = path("interrupted.tar");
	cleanup_free char *layout = path("interrupted-layout");
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	TAP_OK(fd >= 0 && kiln_store_save(st, &item, 1, KILN_ARCHIVE_DOCKER, fd, NULL) ==
				  -KILN_ECANCEL,
	       "an interrupted save fails");
	if (fd >= 0)
		close(fd);
	TAP_OK(kiln_store_layout_write(st, layout, &item, 1, NULL) == -KILN_ECANCEL,
	       "an interrupted layout write fails");
}

int main(void)
{
	strcpy(root, "/tmp/kiln-test-archive.XXXXXX");
	if (!mkdtemp(root)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	cleanup_free char *store = path("store");
	struct kiln_store *st = NULL;
	MUST(kiln_store_open(&ctx, store, 0, &st, NULL));
	struct kiln_digest img;
	test_round_trips(st, &img);
	test_bad_archives();
	test_alloc_failures(st, &img);
	kiln_store_close(st);
	test_interrupted(&img);
	cleanup_free char *rm = kiln_asprintf("rm -rf '%s'", root);
	if (!rm || system(rm) != 0)
		tap_diag("could not remove %s", root);
	return tap_done();
}
