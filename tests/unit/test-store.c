/* SPDX-License-Identifier: Apache-2.0 */
/* The store: blobs, image records, names, migrations, fsck and prune. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "layer-util.h"
#include "tap.h"

#define MUST(x)                                                                                  \
	do {                                                                                     \
		struct kiln_error must_err_ = KILN_ERROR_INIT;                                   \
		(void)must_err_;                                                                 \
		if ((x) < 0) {                                                                   \
			printf("Bail out! %s failed\n", #x);                                      \
			exit(1);                                                                 \
		}                                                                                \
	} while (0)

static const struct kiln_ctx ctx = { .log_level = KILN_LOG_ERROR };

static char *scratch(void)
{
	char tmpl[] = "/tmp/kiln-test-store.XXXXXX";
	char *d = mkdtemp(tmpl);
	if (!d) {
		printf("Bail out! mkdtemp\n");
		exit(1);
	}
	return kiln_strdup(d);
}

static int file_count(const char *dir)
{
	cleanup_free char *cmd = kiln_asprintf("ls -A '%s' | wc -l", dir);
	FILE *p = popen(cmd, "r");
	int n = -1;
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

/* One layer of record_image(): its bytes, and the diff_id its config lists
 * (NULL: the digest of the bytes, an uncompressed layer). */
struct raw_layer {
	const void *data;
	size_t len;
	const struct kiln_digest *diff_id;
};

/* An image of the given layers, recorded in the store under `name` (or none). */
static void record_image(struct kiln_store *st, const struct raw_layer *layers, size_t n,
			 const char *created, const char *name, struct kiln_digest *ret)
{
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *c = NULL;
	cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
	MUST(kiln_oci_config_new(&c, NULL));
	MUST(kiln_oci_manifest_new(&m, NULL));
	c->platform.architecture = kiln_strdup("amd64");
	c->platform.os = kiln_strdup("linux");
	if (created)
		c->created = kiln_strdup(created);
	m->media_type = kiln_strdup(KILN_MT_OCI_MANIFEST);
	for (size_t i = 0; i < n; i++) {
		struct kiln_digest d;
		MUST(kiln_store_blob_put(st, layers[i].data, layers[i].len, NULL, &d, NULL));
		MUST(kiln_oci_config_add_diff_id(c, layers[i].diff_id ? layers[i].diff_id : &d,
						 NULL));
		struct kiln_oci_descriptor l = { 0 };
		MUST(kiln_oci_descriptor_set(&l, KILN_MT_OCI_LAYER, &d, (int64_t)layers[i].len,
					     NULL));
		MUST(kiln_oci_manifest_add_layer(m, &l, NULL));
		kiln_oci_descriptor_release(&l);
	}
	cleanup_free char *cj = NULL, *mj = NULL;
	size_t cl, ml;
	struct kiln_digest cd;
	MUST(kiln_oci_config_to_json(c, &cj, &cl, NULL));
	MUST(kiln_store_blob_put(st, cj, cl, NULL, &cd, NULL));
	MUST(kiln_oci_descriptor_set(&m->config, KILN_MT_OCI_CONFIG, &cd, (int64_t)cl, NULL));
	MUST(kiln_oci_manifest_to_json(m, 0, &mj, &ml, NULL));
	MUST(kiln_store_blob_put(st, mj, ml, NULL, ret, NULL));
	const char *names[] = { name };
	struct kiln_error err = KILN_ERROR_INIT;
	if (kiln_store_image_add(st, ret, names, name ? 1 : 0, &err) < 0) {
		printf("Bail out! image_add: %s\n", err.msg);
		exit(1);
	}
}

/* An image whose layers are tars each holding one file named and filled
 * with one of the strings. */
static void make_image(struct kiln_store *st, const char *const *layers, size_t n,
		       const char *created, const char *name, struct kiln_digest *ret)
{
	struct tb t[8] = { { 0 } };
	struct raw_layer raw[8];
	if (n > 8) {
		printf("Bail out! make_image: more than 8 layers\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		tb_file(&t[i], &(struct tb_hdr){ .name = layers[i], .type = '0' }, layers[i],
			strlen(layers[i]));
		tb_end(&t[i]);
		raw[i] = (struct raw_layer){ t[i].data, t[i].len, NULL };
	}
	record_image(st, raw, n, created, name, ret);
	for (size_t i = 0; i < n; i++)
		tb_free(&t[i]);
}

static void test_blobs(const char *root)
{
	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	TAP_OK(kiln_store_open(&ctx, root, 0, &st, &err) == 0, "open a fresh store");
	kiln_error_release(&err);

	struct kiln_digest d, hello;
	MUST(kiln_sha256_buf("hello", 5, &hello, NULL));
	TAP_INT_EQ(kiln_store_blob_has(st, &hello, NULL, NULL), 0, "absent blob");
	TAP_OK(kiln_store_blob_put(st, "hello", 5, &hello, &d, NULL) == 0, "put verified blob");
	int64_t size = -1;
	TAP_OK(kiln_store_blob_has(st, &hello, &size, NULL) == 1 && size == 5, "blob present");
	TAP_OK(kiln_store_blob_put(st, "hello", 5, NULL, NULL, NULL) == 0, "put again is fine");
	cleanup_free char *path = NULL;
	MUST(kiln_store_blob_path(st, &hello, &path, NULL));
	struct stat sb;
	TAP_OK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0444, "blob file is read-only");

	struct kiln_digest wrong;
	MUST(kiln_sha256_buf("world", 5, &wrong, NULL));
	TAP_INT_EQ(kiln_store_blob_put(st, "hellO", 5, &wrong, NULL, NULL), -KILN_EDIGEST,
		   "put with the wrong digest fails");

	/* streaming writer: size limit, digest check, nothing left behind */
	cleanup_free char *tmpdir = kiln_asprintf("%s/tmp", root);
	cleanup_free char *blobdir = kiln_asprintf("%s/blobs/sha256", root);
	int before = file_count(blobdir);
	struct kiln_blob_writer *w = NULL;
	MUST(kiln_store_blob_writer_new(st, &wrong, 5, &w, NULL));
	TAP_INT_EQ(kiln_blob_writer_write(w, "worlds", 6, NULL), -KILN_EDIGEST,
		   "writing past the expected size fails at once");
	kiln_blob_writer_free(w);
	MUST(kiln_store_blob_writer_new(st, &wrong, 5, &w, NULL));
	MUST(kiln_blob_writer_write(w, "wor", 3, NULL));
	TAP_INT_EQ(kiln_blob_writer_commit(w, NULL, NULL, &err), -KILN_EDIGEST,
		   "a short blob fails at commit (%s)", err.msg ? err.msg : "");
	kiln_error_release(&err);
	kiln_blob_writer_free(w);
	MUST(kiln_store_blob_writer_new(st, &wrong, -1, &w, NULL));
	MUST(kiln_blob_writer_write(w, "worle", 5, NULL));
	TAP_INT_EQ(kiln_blob_writer_commit(w, NULL, NULL, NULL), -KILN_EDIGEST,
		   "a blob with the wrong content fails at commit");
	kiln_blob_writer_free(w);
	TAP_INT_EQ(kiln_store_blob_has(st, &wrong, NULL, NULL), 0, "failed blob is not visible");
	TAP_INT_EQ(file_count(blobdir), before, "failed writes add nothing to blobs/");
	TAP_INT_EQ(file_count(tmpdir), 0, "failed writes leave no temp file");

	MUST(kiln_store_blob_writer_new(st, NULL, -1, &w, NULL));
	MUST(kiln_blob_writer_write(w, "wor", 3, NULL));
	MUST(kiln_blob_writer_write(w, "ld", 2, NULL));
	TAP_INT_EQ(kiln_blob_writer_size(w), 5, "writer counts bytes");
	int64_t got_size = 0;
	TAP_OK(kiln_blob_writer_commit(w, &d, &got_size, NULL) == 0 && kiln_digest_equal(&d, &wrong) &&
		       got_size == 5,
	       "streamed blob gets its digest");
	kiln_blob_writer_free(w);

	/* external producer writing to the fd: commit hashes the file */
	MUST(kiln_store_blob_writer_new(st, NULL, -1, &w, NULL));
	int fd = kiln_blob_writer_external_fd(w);
	TAP_OK(write(fd, "external", 8) == 8, "write through the external fd");
	struct kiln_digest ext, want_ext;
	MUST(kiln_sha256_buf("external", 8, &want_ext, NULL));
	TAP_OK(kiln_blob_writer_commit(w, &ext, &got_size, NULL) == 0 &&
		       kiln_digest_equal(&ext, &want_ext) && got_size == 8,
	       "external writes are hashed at commit");
	kiln_blob_writer_free(w);

	cleanup_free char *data = NULL;
	size_t len = 0;
	TAP_OK(kiln_store_blob_read(st, &hello, 100, &data, &len, NULL) == 0 && len == 5 &&
		       memcmp(data, "hello", 5) == 0,
	       "read a blob back");
	TAP_INT_EQ(kiln_store_blob_read(st, &hello, 4, &data, &len, NULL), -KILN_ELIMIT,
		   "read limit");

	/* corrupt the file behind the store's back: reads must notice */
	MUST(chmod(path, 0644));
	int cfd = open(path, O_WRONLY | O_TRUNC);
	TAP_OK(cfd >= 0 && write(cfd, "jello", 5) == 5, "corrupt a blob");
	close(cfd);
	cleanup_free char *bad = NULL;
	TAP_INT_EQ(kiln_store_blob_read(st, &hello, 100, &bad, &len, NULL), -KILN_EDIGEST,
		   "reading a corrupt blob fails");
	struct kiln_blob_reader *r = NULL;
	MUST(kiln_store_blob_reader_new(st, &hello, &r, NULL));
	char buf[2];
	size_t n = 0;
	int rc = 0, total = 0;
	while ((rc = kiln_blob_reader_read(r, buf, sizeof(buf), &n, NULL)) == 0 && n > 0)
		total += (int)n;
	TAP_OK(rc == -KILN_EDIGEST && total == 5, "streaming reader fails at the end");
	kiln_blob_reader_free(r);
	MUST(unlink(path));
	MUST(kiln_store_blob_put(st, "hello", 5, &hello, NULL, NULL));
	MUST(kiln_store_blob_reader_new(st, &wrong, &r, NULL));
	total = 0;
	while ((rc = kiln_blob_reader_read(r, buf, sizeof(buf), &n, NULL)) == 0 && n > 0)
		total += (int)n;
	TAP_OK(rc == 0 && total == 5 && kiln_blob_reader_size(r) == 5,
	       "streaming reader of a good blob ends cleanly");
	kiln_blob_reader_free(r);
	struct kiln_digest none;
	MUST(kiln_sha256_buf("none", 4, &none, NULL));
	TAP_INT_EQ(kiln_store_blob_reader_new(st, &none, &r, NULL), -KILN_ENOTFOUND,
		   "reader of an absent blob");
}

static void test_images(const char *root)
{
	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	MUST(kiln_store_open(&ctx, root, 0, &st, NULL));
	struct kiln_digest a, b;
	const char *la[] = { "layer-a1", "layer-shared" };
	const char *lb[] = { "layer-b1", "layer-shared" };
	make_image(st, la, 2, "2024-01-01T00:00:00Z", "docker.io/library/alpha:1", &a);
	make_image(st, lb, 2, "2024-02-01T00:00:00Z", NULL, &b);

	struct kiln_digest got;
	struct kiln_error err = KILN_ERROR_INIT;
	TAP_OK(kiln_store_name_get(st, "docker.io/library/alpha:1", &got, NULL) == 0 &&
		       kiln_digest_equal(&got, &a),
	       "name set by image_add");
	TAP_OK(kiln_store_tag(st, &b, "alpha:1", NULL) < 0, "tag wants a canonical name");
	TAP_INT_EQ(kiln_store_tag(st, &b, "docker.io/library/alpha", NULL), -KILN_EINVAL,
		   "tag wants a tag");
	TAP_OK(kiln_store_tag(st, &b, "localhost:5000/beta:x", NULL) == 0, "tag an image");
	TAP_OK(kiln_store_tag(st, &b, "docker.io/library/alpha:1", NULL) == 0,
	       "moving a tag to another image");
	TAP_OK(kiln_store_name_get(st, "docker.io/library/alpha:1", &got, NULL) == 0 &&
		       kiln_digest_equal(&got, &b),
	       "the tag moved");
	struct kiln_digest ghost;
	MUST(kiln_sha256_buf("ghost", 5, &ghost, NULL));
	TAP_INT_EQ(kiln_store_tag(st, &ghost, "docker.io/library/g:1", NULL), -KILN_ENOTFOUND,
		   "tagging an absent image fails");

	/* resolution as users type it */
	struct {
		const char *spec;
		const struct kiln_digest *want; /* NULL: must fail */
	} cases[] = {
		{ "alpha:1", &b },
		{ "docker.io/library/alpha:1", &b },
		{ "localhost:5000/beta:x", &b },
		{ "alpha", NULL },
		{ a.str, &a },
		{ "nothere", NULL },
		{ "Bad Ref", NULL },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		int r = kiln_store_resolve(st, cases[i].spec, &got, NULL);
		if (cases[i].want)
			TAP_OK(r == 0 && kiln_digest_equal(&got, cases[i].want), "resolve '%s'",
			       cases[i].spec);
		else
			TAP_OK(r < 0, "resolve '%s' fails", cases[i].spec);
	}
	cleanup(kiln_store_image_freep) struct kiln_store_image *img = NULL;
	MUST(kiln_store_image_get(st, &a, &img, NULL));
	char prefix[16];
	memcpy(prefix, img->config.hex, 12);
	prefix[12] = '\0';
	TAP_OK(kiln_store_resolve(st, prefix, &got, NULL) == 0 && kiln_digest_equal(&got, &a),
	       "resolve an image id prefix");
	TAP_OK(kiln_store_resolve(st, img->config.str, &got, NULL) == 0 &&
		       kiln_digest_equal(&got, &a),
	       "resolve a full image id");
	cleanup_free char *by_digest = kiln_asprintf("alpha@%s", a.str);
	TAP_OK(kiln_store_resolve(st, by_digest, &got, NULL) == 0 && kiln_digest_equal(&got, &a),
	       "resolve repo@digest");
	TAP_OK(img->size > 0 && img->created_unix == 1704067200 &&
		       strcmp(img->platform.architecture, "amd64") == 0 && img->names.len == 0,
	       "image record fields");

	MUST(kiln_store_repo_digest_add(st, "docker.io/library/alpha", &ghost, &a, NULL));
	cleanup_free char *by_repo_digest = kiln_asprintf("alpha@%s", ghost.str);
	TAP_OK(kiln_store_resolve(st, by_repo_digest, &got, NULL) == 0 &&
		       kiln_digest_equal(&got, &a),
	       "resolve a recorded repository digest (an index)");

	struct kiln_store_image_list l = { 0 };
	MUST(kiln_store_image_list(st, &l, NULL));
	TAP_OK(l.len == 2 && kiln_digest_equal(&l.items[0]->manifest, &b) &&
		       l.items[0]->names.len == 2 && l.items[1]->digests.len == 1,
	       "list is newest first with names and digests");
	kiln_store_image_list_release(&l);

	/* a manifest whose layer is missing cannot be recorded */
	cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
	MUST(kiln_store_manifest_read(st, &a, &m, NULL));
	MUST(kiln_oci_descriptor_set(&m->layers[0], KILN_MT_OCI_LAYER, &ghost, 5, NULL));
	cleanup_free char *mj = NULL;
	size_t ml;
	struct kiln_digest broken;
	MUST(kiln_oci_manifest_to_json(m, 0, &mj, &ml, NULL));
	MUST(kiln_store_blob_put(st, mj, ml, NULL, &broken, NULL));
	const char *names[] = { "docker.io/library/broken:1" };
	TAP_INT_EQ(kiln_store_image_add(st, &broken, names, 1, &err), -KILN_ENOTFOUND,
		   "image with a missing layer is refused (%s)", err.msg ? err.msg : "");
	kiln_error_release(&err);
	TAP_INT_EQ(kiln_store_name_get(st, "docker.io/library/broken:1", &got, NULL),
		   -KILN_ENOTFOUND, "and its name was not set");

	TAP_OK(kiln_store_untag(st, "localhost:5000/beta:x", NULL) == 0, "untag");
	TAP_INT_EQ(kiln_store_untag(st, "localhost:5000/beta:x", NULL), -KILN_ENOTFOUND,
		   "untag twice");
	TAP_OK(kiln_store_image_remove(st, &b, NULL) == 0, "remove an image");
	TAP_INT_EQ(kiln_store_name_get(st, "docker.io/library/alpha:1", &got, NULL),
		   -KILN_ENOTFOUND, "its names went with it");
	TAP_INT_EQ(kiln_store_image_remove(st, &b, NULL), -KILN_ENOTFOUND, "remove twice");
}

static void test_migrations(const char *root)
{
	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	MUST(kiln_store_open(&ctx, root, 0, &st, NULL));
	static const struct kiln_store_migration v1[] = {
		{ 1, "CREATE TABLE test_cache (k TEXT PRIMARY KEY, layer TEXT NOT NULL)" },
	};
	static const struct kiln_store_migration v2[] = {
		{ 1, "CREATE TABLE test_cache (k TEXT PRIMARY KEY, layer TEXT NOT NULL)" },
		{ 2, "ALTER TABLE test_cache ADD COLUMN why TEXT" },
	};
	static const struct kiln_store_migration gap[] = {
		{ 1, "SELECT 1" },
		{ 3, "SELECT 1" },
	};
	TAP_OK(kiln_store_migrate(st, "test", v1, 1, NULL) == 0, "first migration");
	TAP_OK(kiln_store_migrate(st, "test", v1, 1, NULL) == 0, "migrations are idempotent");
	TAP_OK(kiln_store_migrate(st, "test", v2, 2, NULL) == 0, "next step");
	TAP_OK(kiln_store_exec(st, "INSERT INTO test_cache VALUES ('k', 'l', 'w')", NULL) == 0,
	       "the new column exists");
	/* tables that are current need no write lock to say so: another handle
	 * opens the store and checks them while this one holds the lock (were
	 * a write transaction taken, this would wait out the busy timeout) */
	MUST(kiln_store_tx_begin(st, NULL));
	{
		cleanup(kiln_store_closep) struct kiln_store *st2 = NULL;
		TAP_OK(kiln_store_open(&ctx, root, 0, &st2, NULL) == 0 &&
			       kiln_store_migrate(st2, "test", v2, 2, NULL) == 0,
		       "a current store is opened and checked beside a writer");
	}
	kiln_store_tx_rollback(st);
	TAP_INT_EQ(kiln_store_migrate(st, "test", v1, 1, NULL), -KILN_EUNSUPP,
		   "a database newer than the code is refused");
	TAP_INT_EQ(kiln_store_migrate(st, "gap", gap, 2, NULL), -KILN_EINTERNAL,
		   "steps must be numbered without gaps");
	static const struct kiln_store_migration broken[] = { { 1, "CREATE TABLE (" } };
	TAP_OK(kiln_store_migrate(st, "broken", broken, 1, NULL) < 0, "a failing step fails");
	TAP_OK(kiln_store_exec(st, "SELECT * FROM schema_versions WHERE owner = 'broken'", NULL) ==
		       0,
	       "and records nothing");

	/* nested transactions join the outer one */
	MUST(kiln_store_tx_begin(st, NULL));
	MUST(kiln_store_tx_begin(st, NULL));
	MUST(kiln_store_exec(st, "INSERT INTO test_cache VALUES ('k2', 'l', 'w')", NULL));
	kiln_store_tx_rollback(st);
	TAP_OK(kiln_store_tx_commit(st, NULL) < 0, "an inner rollback dooms the outer commit");
	sqlite3_stmt *s = NULL;
	sqlite3_prepare_v2(kiln_store_db(st), "SELECT count(*) FROM test_cache", -1, &s, NULL);
	TAP_OK(s && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 1,
	       "the doomed insert is gone");
	sqlite3_finalize(s);
}

/* A full fsck reads each layer through: one that is no tar, or whose
 * diff_id is not the config's, is a problem (a quick one does not look). */
static void test_fsck_layers(const char *root)
{
	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	MUST(kiln_store_open(&ctx, root, 0, &st, NULL));
	struct tb t = { 0 };
	tb_file(&t, &(struct tb_hdr){ .name = "f", .type = '0' }, "x", 1);
	tb_end(&t);
	struct kiln_digest wrong, img1, img2;
	MUST(kiln_digest_parse("sha256:0000000000000000000000000000000000000000000000000000000000000000",
			       &wrong, NULL));
	record_image(st, &(struct raw_layer){ t.data, t.len, &wrong }, 1, NULL, NULL, &img1);
	record_image(st, &(struct raw_layer){ "not a tar", 9, &wrong }, 1, NULL, NULL, &img2);
	tb_free(&t);
	struct kiln_store_fsck_report rep = { 0 };
	TAP_OK(kiln_store_fsck(st, 0, &rep, NULL) == 0 && rep.n_problems == 2,
	       "fsck reads the layers: two problems");
	int diff = 0, untar = 0;
	for (size_t i = 0; i < rep.n_problems; i++) {
		diff |= strstr(rep.problems[i].what, "unpacks to") != NULL;
		untar |= strstr(rep.problems[i].what, "cannot be unpacked") != NULL;
		tap_diag("%s", rep.problems[i].what);
	}
	TAP_OK(diff && untar, "a wrong diff_id and a layer that is no tar, each named");
	kiln_store_fsck_report_release(&rep);
	memset(&rep, 0, sizeof(rep));
	TAP_OK(kiln_store_fsck(st, KILN_STORE_FSCK_QUICK, &rep, NULL) == 0 && rep.n_problems == 0,
	       "a quick fsck does not read them");
	kiln_store_fsck_report_release(&rep);
}

static void test_fsck_prune(const char *root)
{
	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	MUST(kiln_store_open(&ctx, root, 0, &st, NULL));
	struct kiln_digest a;
	const char *la[] = { "fsck-layer" };
	make_image(st, la, 1, "2024-03-01T00:00:00Z", "docker.io/library/fsck:1", &a);
	struct kiln_store_fsck_report rep = { 0 };
	TAP_OK(kiln_store_fsck(st, 0, &rep, NULL) == 0, "fsck runs");
	TAP_INT_EQ(rep.n_problems, 0, "fsck finds a clean store");
	TAP_OK(rep.blobs_checked > 0 && rep.images_checked >= 1 && rep.unreferenced_blobs > 0,
	       "fsck counts blobs (%zu), images (%zu), unreferenced (%zu)", rep.blobs_checked,
	       rep.images_checked, rep.unreferenced_blobs);
	kiln_store_fsck_report_release(&rep);

	/* other modules' references: a pin and a gc root query */
	struct kiln_digest pinned, rooted;
	MUST(kiln_store_blob_put(st, "pinned", 6, NULL, &pinned, NULL));
	MUST(kiln_store_blob_put(st, "rooted", 6, NULL, &rooted, NULL));
	MUST(kiln_store_pin(st, "test", &pinned, NULL));
	MUST(kiln_store_exec(st, "CREATE TABLE IF NOT EXISTS test_refs (blob TEXT)", NULL));
	cleanup_free char *ins = kiln_asprintf("INSERT INTO test_refs VALUES ('%s')", rooted.str);
	MUST(kiln_store_exec(st, ins, NULL));
	TAP_INT_EQ(kiln_store_gc_root_set(st, "test", "DELETE FROM test_refs", NULL),
		   -KILN_EINVAL, "a gc root query must be a SELECT");
	TAP_OK(kiln_store_gc_root_set(st, "test", "SELECT blob FROM test_refs", NULL) == 0,
	       "register a gc root query");

	cleanup_free char *tmpfile = kiln_asprintf("%s/tmp/blob-leftover.1", root);
	FILE *f = fopen(tmpfile, "w");
	TAP_OK(f && fputs("partial", f) >= 0, "a temp file left by a crash");
	if (f)
		fclose(f);

	struct kiln_store_prune_report pr = { 0 };
	TAP_OK(kiln_store_prune(st, KILN_STORE_PRUNE_DRY_RUN, &pr, NULL) == 0 &&
		       pr.blobs_removed > 0,
	       "dry run reports %zu blobs", pr.blobs_removed);
	TAP_INT_EQ(access(tmpfile, F_OK), 0, "dry run removes nothing");
	memset(&pr, 0, sizeof(pr));
	TAP_OK(kiln_store_prune(st, 0, &pr, NULL) == 0, "prune");
	TAP_OK(pr.blobs_removed > 0 && pr.temp_removed == 1 && pr.bytes_freed > 0,
	       "prune removed %zu blobs, %zu temp files, %lld bytes", pr.blobs_removed,
	       pr.temp_removed, (long long)pr.bytes_freed);
	TAP_OK(access(tmpfile, F_OK) < 0 && errno == ENOENT, "the temp file is gone");
	TAP_INT_EQ(kiln_store_blob_has(st, &pinned, NULL, NULL), 1, "pinned blob kept");
	TAP_INT_EQ(kiln_store_blob_has(st, &rooted, NULL, NULL), 1, "gc-root blob kept");
	cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
	TAP_OK(kiln_store_manifest_read(st, &a, &m, NULL) == 0 &&
		       kiln_store_blob_has(st, &m->layers[0].sha256, NULL, NULL) == 1,
	       "named image's blobs kept");
	memset(&rep, 0, sizeof(rep));
	TAP_OK(kiln_store_fsck(st, 0, &rep, NULL) == 0 && rep.n_problems == 0 &&
		       rep.unreferenced_blobs == 0,
	       "fsck after prune is clean with nothing unreferenced");
	kiln_store_fsck_report_release(&rep);

	/* damage: a corrupt layer (one byte of its file's content), a missing rooted blob */
	cleanup_free char *lp = NULL;
	MUST(kiln_store_blob_path(st, &m->layers[0].sha256, &lp, NULL));
	MUST(chmod(lp, 0644));
	f = fopen(lp, "r+");
	if (f) {
		fseek(f, 512, SEEK_SET);
		fputc('F', f);
		fclose(f);
	}
	cleanup_free char *rp = NULL;
	MUST(kiln_store_blob_path(st, &rooted, &rp, NULL));
	MUST(unlink(rp));
	memset(&rep, 0, sizeof(rep));
	TAP_OK(kiln_store_fsck(st, 0, &rep, NULL) == 0 && rep.n_problems == 2,
	       "fsck reports the corrupt layer and the missing blob (%zu problems)",
	       rep.n_problems);
	for (size_t i = 0; i < rep.n_problems; i++)
		tap_diag("%s", rep.problems[i].what);
	kiln_store_fsck_report_release(&rep);
	memset(&rep, 0, sizeof(rep));
	TAP_OK(kiln_store_fsck(st, KILN_STORE_FSCK_QUICK, &rep, NULL) == 0 && rep.n_problems == 1,
	       "quick fsck sees only the missing blob");
	kiln_store_fsck_report_release(&rep);

	/* a cache's blobs: kept by the prune rmi runs, freed by a plain prune */
	struct kiln_digest cached;
	MUST(kiln_store_blob_put(st, "cached", 6, NULL, &cached, NULL));
	MUST(kiln_store_exec(st, "CREATE TABLE test_blob_cache (blob TEXT)", NULL));
	cleanup_free char *cins =
		kiln_asprintf("INSERT INTO test_blob_cache VALUES ('%s')", cached.str);
	MUST(kiln_store_exec(st, cins, NULL));
	MUST(kiln_store_gc_root_set(st, "test" KILN_STORE_GC_CACHE_SUFFIX,
				    "SELECT blob FROM test_blob_cache", NULL));
	memset(&rep, 0, sizeof(rep));
	TAP_OK(kiln_store_fsck(st, KILN_STORE_FSCK_QUICK, &rep, NULL) == 0 && rep.n_problems == 1 &&
		       rep.unreferenced_blobs == 1,
	       "fsck counts a cache's blob as unreferenced, not as a reference");
	kiln_store_fsck_report_release(&rep);
	memset(&pr, 0, sizeof(pr));
	TAP_OK(kiln_store_prune(st, KILN_STORE_PRUNE_KEEP_CACHES, &pr, NULL) == 0 &&
		       kiln_store_blob_has(st, &cached, NULL, NULL) == 1,
	       "a prune that keeps caches keeps the cache's blob");
	memset(&pr, 0, sizeof(pr));
	TAP_OK(kiln_store_prune(st, 0, &pr, NULL) == 0 &&
		       kiln_store_blob_has(st, &cached, NULL, NULL) == 0,
	       "a plain prune frees it");
	memset(&rep, 0, sizeof(rep));
	TAP_OK(kiln_store_fsck(st, KILN_STORE_FSCK_QUICK, &rep, NULL) == 0 && rep.n_problems == 1,
	       "a cache row without its blob is no fsck problem");
	kiln_store_fsck_report_release(&rep);

	/* dangling images go with --dangling */
	MUST(kiln_store_untag(st, "docker.io/library/fsck:1", NULL));
	memset(&pr, 0, sizeof(pr));
	TAP_OK(kiln_store_prune(st, KILN_STORE_PRUNE_DANGLING | KILN_STORE_PRUNE_DRY_RUN, &pr,
				NULL) == 0 &&
		       pr.images_removed >= 1 && pr.blobs_removed > 0,
	       "a dry run of --dangling counts the images and the blobs they would free");
	size_t would = pr.images_removed, would_blobs = pr.blobs_removed;
	{
		cleanup(kiln_store_image_freep) struct kiln_store_image *kept = NULL;
		TAP_OK(kiln_store_image_get(st, &a, &kept, NULL) == 0, "... and keeps the image");
	}
	memset(&pr, 0, sizeof(pr));
	TAP_OK(kiln_store_prune(st, KILN_STORE_PRUNE_DANGLING, &pr, NULL) == 0 &&
		       pr.images_removed == would && pr.blobs_removed == would_blobs,
	       "prune dangling: what the dry run said");
	cleanup(kiln_store_image_freep) struct kiln_store_image *img = NULL;
	TAP_INT_EQ(kiln_store_image_get(st, &a, &img, NULL), -KILN_ENOTFOUND,
		   "the untagged image is gone");
}

static void test_default_root(void)
{
	cleanup_free char *r = NULL;
	MUST(kiln_store_default_root(&r, NULL));
	if (geteuid() == 0)
		TAP_STR_EQ(r, "/var/lib/kiln", "root's default store");
	else
		TAP_OK(strstr(r, "/kiln") != NULL, "user's default store %s", r);
}

/* A database that was lost over a store with blobs: refused, never made anew. */
static void test_lost_db(const char *root)
{
	{
		cleanup(kiln_store_closep) struct kiln_store *st = NULL;
		MUST(kiln_store_open(&ctx, root, 0, &st, NULL));
		MUST(kiln_store_blob_put(st, "kept", 4, NULL, NULL, NULL));
	}
	cleanup_free char *db = kiln_asprintf("%s/store.db", root);
	cleanup_free char *wal = kiln_asprintf("%s/store.db-wal", root);
	MUST(truncate(db, 0));
	(void) unlink(wal);
	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	TAP_OK(kiln_store_open(&ctx, root, 0, &st, &err) < 0 && err.msg &&
		       strstr(err.msg, "database was lost"),
	       "an emptied database over blobs is refused");
	kiln_error_release(&err);
}

int main(void)
{
	cleanup_free char *root = scratch();
	test_default_root();
	test_blobs(root);
	test_images(root);
	test_migrations(root);
	test_fsck_prune(root);
	cleanup_free char *root2 = scratch();
	test_fsck_layers(root2);
	cleanup_free char *root3 = scratch();
	test_lost_db(root3);
	cleanup_free char *rm = kiln_asprintf("rm -rf '%s' '%s' '%s'", root, root2, root3);
	if (system(rm) != 0)
		tap_diag("could not remove %s", root);
	return tap_done();
}
