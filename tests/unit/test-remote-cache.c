/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rcache's codec: the cache config (BuildKit's CacheConfig with kiln's
 * objects) built, sorted, written and read back; what the reader refuses;
 * configs BuildKit wrote; the manifest and index envelopes; inline caches
 * in an image config.
 */
#include <string.h>

#include "rcache/rcache.h"
#include "tap.h"

#define MUST(x)                                                                                    \
	do {                                                                                       \
		if ((x) < 0) {                                                                     \
			printf("Bail out! %s failed\n", #x);                                       \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

static struct kiln_digest dg(char c)
{
	char s[72] = "sha256:";
	memset(s + 7, c, 64);
	s[71] = 0;
	struct kiln_digest d;
	MUST(kiln_digest_parse(s, &d, NULL));
	return d;
}

#define H(c)                                                                                       \
	"sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c  \
		c c c c c c c c c c c c c c c c c c c c c c c c

/*
 * Two steps of one stage: a RUN layer on the base, a COPY layer on it;
 * `extra` 1 or 2 adds another stage's step before or after them.
 */
static struct kiln_rcache_config *two_steps(int extra)
{
	struct kiln_rcache_config *c = NULL;
	MUST(kiln_rcache_config_new(&c, NULL));
	struct kiln_rcache_layer l1 = { .blob = dg('1'),
					.parent = -1,
					.media_type = (char *) KILN_MT_OCI_LAYER_GZIP,
					.diff_id = dg('a'),
					.has_diff_id = 1,
					.size = 100,
					.created = 1700000000 };
	struct kiln_rcache_layer l2 = { .blob = dg('2'),
					.parent = 0,
					.media_type = (char *) KILN_MT_OCI_LAYER_GZIP,
					.diff_id = dg('b'),
					.has_diff_id = 1,
					.size = 200,
					.created = 1700000001 };
	struct kiln_rcache_layer lx = { .blob = dg('0'), .parent = -1, .size = -1, .created = -1 };
	struct kiln_digest k1 = dg('e'), k2 = dg('d'), kx = dg('3'), chain = dg('f');
	long i1, i2, ix, r1, r2, rx;
	if (extra == 1) {
		MUST(kiln_rcache_config_add_layer(c, &lx, &ix, NULL));
		MUST(kiln_rcache_config_add_record(c, &kx, -1, ix, -1, NULL, NULL, NULL, &rx,
						   NULL));
	}
	MUST(kiln_rcache_config_add_layer(c, &l1, &i1, NULL));
	l2.parent = i1;
	MUST(kiln_rcache_config_add_layer(c, &l2, &i2, NULL));
	MUST(kiln_rcache_config_add_record(c, &k1, -1, i1, 1700000000, NULL,
					   "RUN /bin/sh -c make # buildkit",
					   "[[\"parent\", \"base:x\"]]", &r1, NULL));
	MUST(kiln_rcache_config_add_record(c, &k2, r1, i2, 1700000001, &chain,
					   "COPY <a&b> /x # buildkit",
					   "[ [\"parent\",\"" H("e") "\"] ]", &r2, NULL));
	if (extra == 2) {
		MUST(kiln_rcache_config_add_layer(c, &lx, &ix, NULL));
		MUST(kiln_rcache_config_add_record(c, &kx, -1, ix, -1, NULL, NULL, NULL, &rx,
						   NULL));
	}
	return c;
}

static const char two_steps_json
	[] = "{\"layers\":["
	     "{\"blob\":\"" H(
		     "1") "\",\"parent\":-1,\"annotations\":{\"mediaType\":\"application/"
			  "vnd.oci.image.layer.v1.tar+gzip\",\"diffID\":\"" H(
				  "a") "\",\"size\":100,"
				       "\"createdAt\":\"2023-11-14T22:13:20Z\"}},"
				       "{\"blob\":\"" H(
					       "2") "\",\"annotations\":{\"mediaType\":"
						    "\"application/"
						    "vnd.oci.image.layer.v1.tar+gzip\","
						    "\"diffID\":\"" H(
							    "b") "\",\"size\":200,"
								 "\"createdAt\":\"2023-11-14T22:"
								 "13:21Z\"}}],"
								 "\"records\":["
								 "{\"layers\":[{\"layer\":1,"
								 "\"createdAt\":\"2023-11-14T22:"
								 "13:21Z\"}],\"digest\":\"" H("d") "\",\"inputs\":[[{\"link\":1}]],\"kiln\":{\"chain\":\"" H(
									 "f") "\",\"createdBy\":"
									      "\"COPY "
									      "\\u003ca\\u0026b"
									      "\\u003e /x # "
									      "buildkit\","
									      "\"ingredients\":["
									      "[\"parent\",\"" H(
										      "e") "\"]]"
											   "}},"
											   "{\"l"
											   "ayer"
											   "s\":"
											   "[{"
											   "\"la"
											   "yer"
											   "\":"
											   "0,"
											   "\"cr"
											   "eate"
											   "dAt"
											   "\":"
											   "\"20"
											   "23-"
											   "11-"
											   "14T2"
											   "2:"
											   "13:"
											   "20Z"
											   "\"}]"
											   ",\"d"
											   "iges"
											   "t\":"
											   "\"" H("e") "\",\"kiln\":{\"createdBy\":\"RUN /bin/sh -c make # "
												       "buildkit\",\"ingredients\":[[\"parent\",\"base:x\"]]}}]}";

static char *to_json(struct kiln_rcache_config *c)
{
	char *s = NULL;
	MUST(kiln_rcache_config_to_json(c, &s, NULL, NULL));
	return s;
}

static void test_build_and_write(void)
{
	cleanup(kiln_rcache_config_freep) struct kiln_rcache_config *a = two_steps(0);
	cleanup(kiln_rcache_config_freep) struct kiln_rcache_config *b = two_steps(1);
	cleanup(kiln_rcache_config_freep) struct kiln_rcache_config *b2 = two_steps(2);
	MUST(kiln_rcache_config_sort(a, NULL));
	MUST(kiln_rcache_config_sort(b, NULL));
	MUST(kiln_rcache_config_sort(b2, NULL));
	cleanup_free char *ja = to_json(a);
	cleanup_free char *jb = to_json(b);
	cleanup_free char *jb2 = to_json(b2);
	TAP_STR_EQ(ja, two_steps_json, "a config is written as Go writes CacheConfig, sorted");
	TAP_STR_EQ(jb, jb2, "the same cache made in another order writes the same bytes");
	TAP_OK(kiln_rcache_config_is_kilns(a), "records with kiln objects make a kiln cache");

	/* the same blob on the same parent is one layer */
	long idx = 0;
	struct kiln_rcache_layer again = a->layers[0];
	MUST(kiln_rcache_config_add_layer(a, &again, &idx, NULL));
	TAP_INT_EQ(idx, 0, "adding a known layer gives its index");
	TAP_INT_EQ((long) a->n_layers, 2, "and no new layer");
	struct kiln_rcache_layer orphan = { .blob = dg('3'), .parent = 7 };
	struct kiln_error err = KILN_ERROR_INIT;
	TAP_INT_EQ(kiln_rcache_config_add_layer(a, &orphan, &idx, &err), -KILN_EINVAL,
		   "a parent that does not exist is refused");
	kiln_error_release(&err);
	struct kiln_digest k = dg('9');
	TAP_INT_EQ(kiln_rcache_config_add_record(a, &k, -1, -1, -1, NULL, NULL, "{\"x\":1}", &idx,
						 &err),
		   -KILN_EPARSE, "ingredients that are not [name, value] pairs are refused");
	kiln_error_release(&err);
	TAP_INT_EQ((long) a->n_records, 2, "and leave no record behind");
}

static void test_round_trip(void)
{
	cleanup(kiln_rcache_config_freep) struct kiln_rcache_config *c = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_rcache_config_parse(two_steps_json, strlen(two_steps_json), &c, &err);
	TAP_INT_EQ(r, 0, "the written config parses (%s)", err.msg ? err.msg : "ok");
	kiln_error_release(&err);
	if (r < 0)
		return;
	TAP_INT_EQ((long) c->n_layers, 2, "two layers");
	TAP_INT_EQ(c->layers[1].parent, 0, "a missing parent is layer 0 (Go's omitempty)");
	TAP_INT_EQ(c->layers[0].parent, -1, "parent -1 is no parent");
	TAP_INT_EQ(c->layers[1].size, 200, "size from the annotations");
	TAP_INT_EQ(c->layers[1].created, 1700000001, "createdAt from the annotations");
	TAP_OK(c->layers[1].has_diff_id && !strcmp(c->layers[1].diff_id.str, H("b")),
	       "diffID from the annotations");
	TAP_INT_EQ((long) c->n_records, 2, "two records");
	const struct kiln_rcache_record *d = &c->records[0];
	TAP_OK(d->has_kiln && d->has_chain && !strcmp(d->chain.str, H("f")), "the chain key");
	TAP_STR_EQ(d->created_by, "COPY <a&b> /x # buildkit", "the history text, unescaped");
	TAP_INT_EQ((long) d->n_inputs, 1, "one input");
	TAP_INT_EQ(d->inputs[0].v[0].link, 1, "linked to the RUN's record");
	TAP_INT_EQ(d->results[0].layer, 1, "resolving to the second layer");
	cleanup_free char *again = to_json(c);
	TAP_STR_EQ(again, two_steps_json, "parse then write gives the same bytes");
}

/* A cache config as BuildKit writes it (mode=max of a two-step build). */
static const char buildkit_json[] =
	"{\"layers\":[{\"blob\":\"" H("3") "\",\"parent\":-1},{\"blob\":\"" H(
		"4") "\"}],"
		     "\"records\":[{\"digest\":\"" H(
			     "5") "\"},"
				  "{\"layers\":[{\"layer\":0,\"createdAt\":\"2024-02-03T04:05:06."
				  "123456789Z\"}],"
				  "\"digest\":\"" H("6") "\",\"inputs\":[[{\"selector\":\"" H(
					  "7") "\",\"link\":0}]]},"
					       "{\"layers\":[{\"layer\":1,\"createdAt\":\"2024-02-"
					       "03T04:05:07Z\"}],"
					       "\"chains\":[{\"layers\":[0,1]}],\"digest\":\"" H(
						       "8") "\",\"inputs\":[[{\"link\":1}],null]}]"
							    "}";

static void test_buildkit_config(void)
{
	cleanup(kiln_rcache_config_freep) struct kiln_rcache_config *c = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_rcache_config_parse(buildkit_json, strlen(buildkit_json), &c, &err);
	TAP_INT_EQ(r, 0, "BuildKit's config parses (%s)", err.msg ? err.msg : "ok");
	kiln_error_release(&err);
	if (r < 0)
		return;
	TAP_OK(!kiln_rcache_config_is_kilns(c), "and is known for another builder's");
	TAP_INT_EQ(c->records[1].results[0].created, 1706933106, "fractions of a second dropped");
	TAP_STR_EQ(c->records[1].inputs[0].v[0].selector, H("7"), "selectors kept");
	TAP_INT_EQ((long) c->records[2].n_inputs, 2, "a null input is an empty one");
	TAP_INT_EQ(c->layers[0].size, -1, "no annotations: size unknown");
}

static void test_refused(void)
{
	static const struct {
		const char *json;
		int code;
		const char *what;
	} cases[] = {
		{ "[]", -KILN_EPARSE, "not an object" },
		{ "{\"layers\":{}}", -KILN_EPARSE, "layers not an array" },
		{ "{\"layers\":[{\"parent\":-1}]}", -KILN_EPARSE, "a layer without a blob" },
		{ "{\"layers\":[{\"blob\":\"sha256:abc\",\"parent\":-1}]}", -KILN_EPARSE,
		  "a short digest" },
		{ "{\"layers\":[{\"blob\":\"" H("1") "\",\"parent\":5}]}", -KILN_EPARSE,
		  "a parent out of range" },
		{ "{\"layers\":[{\"blob\":\"" H("1") "\"}]}", -KILN_EPARSE,
		  "a layer that is its own parent (0 by omission)" },
		{ "{\"layers\":[{\"blob\":\"" H("1") "\",\"parent\":1},{\"blob\":\"" H("2") "\"}]}",
		  -KILN_EPARSE, "parents that loop" },
		{ "{\"layers\":[{\"blob\":\"" H("1") "\",\"parent\":-2}]}", -KILN_EPARSE,
		  "a parent below -1" },
		{ "{\"layers\":[{\"blob\":\"" H(
			  "1") "\",\"parent\":-1,\"annotations\":{\"size\":-4}}]}",
		  -KILN_EPARSE, "a negative size" },
		{ "{\"layers\":[{\"blob\":\"" H(
			  "1") "\",\"parent\":-1,\"annotations\":{\"createdAt\":"
			       "\"yesterday\"}}]}",
		  -KILN_EPARSE, "a time that is not RFC 3339" },
		{ "{\"records\":[{\"digest\":\"" H("1") "\",\"layers\":[{\"layer\":0}]}]}",
		  -KILN_EPARSE, "a result without its layer" },
		{ "{\"records\":[{\"digest\":\"" H("1") "\",\"inputs\":[[{\"link\":3}]]}]}",
		  -KILN_EPARSE, "a link out of range" },
		{ "{\"records\":[{\"digest\":\"" H(
			  "1") "\",\"inputs\":[[{\"link\":1}]]},"
			       "{\"digest\":\"" H("2") "\",\"inputs\":[[{\"link\":0}]]}]}",
		  -KILN_EPARSE, "records whose inputs loop" },
		{ "{\"records\":[{\"inputs\":[]}]}", -KILN_EPARSE, "a record without a digest" },
		{ "{\"records\":[{\"digest\":\"" H(
			  "1") "\",\"kiln\":{\"ingredients\":[[\"a\"]]}}]}",
		  -KILN_EPARSE, "an ingredient that is not a pair" },
		{ "{\"records\":[{\"digest\":\"" H("1") "\",\"kiln\":{\"chain\":\"x\"}}]}",
		  -KILN_EPARSE, "a chain that is not a digest" },
		{ "{\"records\":[{\"digest\":\"" H("1") "\",\"kiln\":[]}]}", -KILN_EPARSE,
		  "kiln's object not an object" },
		{ "{\"kiln\":{\"mounts\":[{\"id\":\"a\",\"blob\":\"" H("1") "\"},{\"id\":\"a\","
									    "\"blob\":\"" H(
										    "2") "\"}]}}",
		  -KILN_EPARSE, "a cache mount listed twice" },
		{ "{\"kiln\":{\"mounts\":[{\"blob\":\"" H("1") "\"}]}}", -KILN_EPARSE,
		  "a cache mount without an id" },
		{ "{\"layers\":[],\"layers\":[]}", -KILN_EPARSE, "duplicate keys" },
		{ "{\"records\":[{\"digest\":\"" H(
			  "1") "\",\"createdBy\":1,\"kiln\":{\"createdBy\":"
			       "\"a\\u0000b\"}}]}",
		  -KILN_EPARSE, "a NUL in a string" },
		{ "{", -KILN_EPARSE, "truncated JSON" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct kiln_rcache_config *c = NULL;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_rcache_config_parse(cases[i].json, strlen(cases[i].json), &c, &err);
		TAP_INT_EQ(r, cases[i].code, "refused: %s (%s)", cases[i].what,
			   err.msg ? err.msg : "accepted");
		TAP_OK(c == NULL, "and nothing returned: %s", cases[i].what);
		kiln_rcache_config_free(c);
		kiln_error_release(&err);
	}
	/* limits */
	struct kiln_buf b = KILN_BUF_INIT;
	MUST(kiln_buf_addstr(&b, "{\"records\":[{\"digest\":\"" H("1") "\",\"inputs\":["));
	for (int i = 0; i <= KILN_RCACHE_INPUTS_MAX; i++)
		MUST(kiln_buf_addstr(&b, i ? ",null" : "null"));
	MUST(kiln_buf_addstr(&b, "]}]}"));
	struct kiln_rcache_config *c = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	TAP_INT_EQ(kiln_rcache_config_parse(b.buf, b.len, &c, &err), -KILN_ELIMIT,
		   "more inputs than the limit");
	kiln_error_release(&err);
	kiln_buf_release(&b);
}

static void test_mounts(void)
{
	cleanup(kiln_rcache_config_freep) struct kiln_rcache_config *c = NULL;
	MUST(kiln_rcache_config_new(&c, NULL));
	struct kiln_digest blob = dg('c');
	MUST(kiln_rcache_config_add_mount(c, "go-build", "", &blob, 1700000000, NULL));
	MUST(kiln_rcache_config_add_mount(c, "go-build", "perm=700:1:1", &blob, 1700000000, NULL));
	cleanup_free char *j = to_json(c);
	TAP_STR_EQ(
		j,
		"{\"kiln\":{\"mounts\":[{\"id\":\"go-build\",\"blob\":\"" H(
			"c") "\",\"updatedAt\":\"2023-11-14T22:13:20Z\"},{\"id\":\"go-build\","
			     "\"seed\":"
			     "\"perm=700:1:1\",\"blob\":\"" H("c") "\",\"updatedAt\":"
								   "\"2023-11-14T22:13:20Z\"}]}}",
		"cache mounts are listed in kiln's top-level object");
	cleanup(kiln_rcache_config_freep) struct kiln_rcache_config *p = NULL;
	MUST(kiln_rcache_config_parse(j, strlen(j), &p, NULL));
	TAP_OK(p->n_mounts == 2 && !strcmp(p->mounts[0].id, "go-build") &&
		       !strcmp(p->mounts[0].seed, "") &&
		       !strcmp(p->mounts[1].seed, "perm=700:1:1") &&
		       p->mounts[0].updated == 1700000000 &&
		       kiln_digest_equal(&p->mounts[0].blob, &blob),
	       "and read back");
	TAP_OK(!kiln_rcache_config_is_kilns(p), "a config without records is no kiln cache");
}

static void test_envelopes(void)
{
	struct kiln_digest cfg = dg('c'), blob = dg('1'), diff = dg('a');
	struct kiln_oci_descriptor d = { 0 };
	MUST(kiln_rcache_blob_descriptor(KILN_MT_OCI_LAYER_GZIP, &blob, 100, &diff, 1700000000, &d,
					 NULL));
	TAP_STR_EQ(kiln_oci_map_get(&d.annotations, KILN_RCACHE_ANNOT_UNCOMPRESSED), diff.str,
		   "a blob descriptor names its uncompressed digest");
	TAP_STR_EQ(kiln_oci_map_get(&d.annotations, KILN_RCACHE_ANNOT_CREATED),
		   "2023-11-14T22:13:20Z", "and its time");
	for (int im = 1; im >= 0; im--) {
		cleanup_free char *j = NULL;
		size_t len = 0;
		const char *mt = NULL;
		MUST(kiln_rcache_envelope_write(&cfg, 42, &d, 1, im, &j, &len, &mt, NULL));
		TAP_STR_EQ(mt, im ? KILN_MT_OCI_MANIFEST : KILN_MT_OCI_INDEX,
			   "envelope media type");
		TAP_OK(strstr(j, "\"mediaType\":\"" KILN_RCACHE_MT_CONFIG "\"") != NULL,
		       "the cache config is in the %s", im ? "manifest" : "index");
		struct kiln_rcache_envelope e = { 0 };
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_rcache_envelope_parse(j, len, &e, &err);
		TAP_INT_EQ(r, 0, "the envelope parses (%s)", err.msg ? err.msg : "ok");
		kiln_error_release(&err);
		TAP_INT_EQ(e.kind, im ? KILN_RCACHE_CACHE_MANIFEST : KILN_RCACHE_CACHE_INDEX,
			   "as a cache %s", im ? "manifest" : "index");
		TAP_OK(e.config.has_sha256 && kiln_digest_equal(&e.config.sha256, &cfg) &&
			       e.config.size == 42,
		       "the config descriptor");
		TAP_OK(e.n_blobs == 1 && e.blobs[0].size == 100 &&
			       !strcmp(kiln_oci_map_get(&e.blobs[0].annotations,
							KILN_RCACHE_ANNOT_UNCOMPRESSED),
				       diff.str),
		       "the blob with its annotations");
		kiln_rcache_envelope_release(&e);
	}
	kiln_oci_descriptor_release(&d);

	static const struct {
		const char *json;
		enum kiln_rcache_kind kind;
		const char *what;
	} kinds[] = {
		{ "{\"schemaVersion\":2,\"mediaType\":\"application/"
		  "vnd.oci.image.manifest.v1+json\","
		  "\"config\":{\"mediaType\":\"application/"
		  "vnd.oci.image.config.v1+json\",\"digest\":"
		  "\"" H("1") "\",\"size\":10},\"layers\":[{\"mediaType\":\"application/"
			      "vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" H(
				      "2") "\",\"size\":5}]}",
		  KILN_RCACHE_IMAGE_MANIFEST, "an image manifest" },
		{ "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
		  "\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		  "\"digest\":\"" H("1") "\",\"size\":10,\"platform\":{\"architecture\":\"amd64\","
					 "\"os\":\"linux\"}}]}",
		  KILN_RCACHE_IMAGE_INDEX, "an image index" },
		{ "{\"schemaVersion\":2,\"mediaType\":\"application/"
		  "vnd.oci.image.manifest.v1+json\","
		  "\"config\":{\"mediaType\":\"application/"
		  "vnd.cncf.helm.config.v1+json\",\"digest\":"
		  "\"" H("1") "\",\"size\":10},\"layers\":[{\"mediaType\":\"application/x-tar\","
			      "\"digest\":\"" H("2") "\",\"size\":5}]}",
		  KILN_RCACHE_NOT_CACHE, "another artifact" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(kinds); i++) {
		struct kiln_rcache_envelope e = { 0 };
		int r = kiln_rcache_envelope_parse(kinds[i].json, strlen(kinds[i].json), &e, NULL);
		TAP_OK(r == 0 && e.kind == kinds[i].kind, "%s is told apart", kinds[i].what);
		kiln_rcache_envelope_release(&e);
	}
	struct kiln_rcache_envelope e = { 0 };
	TAP_OK(kiln_rcache_envelope_parse("not json", 8, &e, NULL) < 0, "garbage is an error");
}

static void test_inline(void)
{
	static const struct {
		const char *in;
		const char *out;
		const char *what;
	} cases[] = {
		{ "{\"architecture\":\"amd64\",\"os\":\"linux\"}",
		  "{\"architecture\":\"amd64\",\"moby.buildkit.cache.v0\":\"W10=\",\"os\":"
		  "\"linux\"}",
		  "between the keys around it" },
		{ "{}", "{\"moby.buildkit.cache.v0\":\"W10=\"}", "into an empty object" },
		{ "{\"a\":{\"b\":\"}\"},\"moby.buildkit.cache.v0\":\"old\"}",
		  "{\"a\":{\"b\":\"}\"},\"moby.buildkit.cache.v0\":\"W10=\"}",
		  "replacing an old one" },
		{ "{\"a\":1}", "{\"a\":1,\"moby.buildkit.cache.v0\":\"W10=\"}", "last" },
		{ "{\"moby\":[1,\"\\\"\"],\"z\":null}",
		  "{\"moby\":[1,\"\\\"\"],\"moby.buildkit.cache.v0\":\"W10=\",\"z\":null}",
		  "after a key that is its prefix" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		cleanup_free char *out = NULL;
		size_t n = 0;
		MUST(kiln_rcache_inline_embed(cases[i].in, strlen(cases[i].in), "[]", 2, &out, &n,
					      NULL));
		TAP_STR_EQ(out, cases[i].out, "inline records embedded %s", cases[i].what);
	}
	cleanup_free char *o = NULL;
	TAP_OK(kiln_rcache_inline_embed("{\"a\":", 5, "[]", 2, &o, NULL, NULL) < 0,
	       "a broken config is refused");

	/* an image of two layers with records for both */
	cleanup(kiln_rcache_config_freep) struct kiln_rcache_config *c = two_steps(0);
	cleanup_free char *records = NULL, *cfg = NULL;
	size_t rl = 0, cl = 0;
	MUST(kiln_rcache_records_to_json(c, &records, &rl, NULL));
	const char *image = "{\"architecture\":\"amd64\",\"history\":[{\"created\":"
			    "\"2023-11-14T22:13:20Z\",\"created_by\":\"RUN\"},{\"created\":"
			    "\"2023-11-14T22:13:21Z\",\"empty_layer\":true},{\"created\":"
			    "\"2023-11-14T22:13:22Z\"}],\"os\":\"linux\",\"rootfs\":{\"type\":"
			    "\"layers\",\"diff_ids\":[\"" H("a") "\",\"" H("b") "\"]}}";
	MUST(kiln_rcache_inline_embed(image, strlen(image), records, rl, &cfg, &cl, NULL));
	struct kiln_oci_descriptor layers[2] = { 0 };
	struct kiln_digest b1 = dg('1'), b2 = dg('2');
	MUST(kiln_oci_descriptor_set(&layers[0], KILN_MT_OCI_LAYER_GZIP, &b1, 100, NULL));
	MUST(kiln_oci_descriptor_set(&layers[1], KILN_MT_OCI_LAYER_GZIP, &b2, 200, NULL));
	cleanup(kiln_rcache_config_freep) struct kiln_rcache_config *p = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_rcache_inline_parse(cfg, cl, layers, 2, &p, &err);
	TAP_INT_EQ(r, 1, "the inline cache is found (%s)", err.msg ? err.msg : "ok");
	kiln_error_release(&err);
	if (r == 1) {
		TAP_INT_EQ((long) p->n_layers, 2, "layers from the manifest");
		TAP_INT_EQ(p->layers[1].parent, 0, "each on the one before");
		TAP_OK(kiln_digest_equal(&p->layers[1].diff_id, &c->layers[1].diff_id),
		       "diff ids from rootfs");
		TAP_INT_EQ(p->layers[1].created, 1700000002, "times from the layers' history");
		TAP_INT_EQ((long) p->n_records, 2, "records from the config");
		TAP_OK(p->records[1].has_kiln && p->records[1].ingredients, "with kiln's objects");
	}
	cleanup(kiln_rcache_config_freep) struct kiln_rcache_config *none = NULL;
	TAP_INT_EQ(kiln_rcache_inline_parse(image, strlen(image), layers, 2, &none, NULL), 0,
		   "an image without an inline cache has none");
	TAP_INT_EQ(kiln_rcache_inline_parse(cfg, cl, layers, 1, &none, NULL), 0,
		   "nor one whose manifest does not match its config");
	kiln_oci_descriptor_release(&layers[0]);
	kiln_oci_descriptor_release(&layers[1]);
}

/* An inline cache's layers are the image's, in its order: only the records are sorted. */
static void test_sort_records_only(void)
{
	for (int records_only = 0; records_only <= 1; records_only++) {
		cleanup(kiln_rcache_config_freep) struct kiln_rcache_config *c = NULL;
		MUST(kiln_rcache_config_new(&c, NULL));
		/* the upper layer's blob sorts before the lower one's */
		struct kiln_rcache_layer lower = { .blob = dg('9'), .parent = -1, .size = 1 };
		struct kiln_rcache_layer upper = { .blob = dg('2'), .parent = 0, .size = 1 };
		long il = 0, iu = 0, rl = 0, ru = 0;
		MUST(kiln_rcache_config_add_layer(c, &lower, &il, NULL));
		upper.parent = il;
		MUST(kiln_rcache_config_add_layer(c, &upper, &iu, NULL));
		struct kiln_digest kl = dg('e'), ku = dg('d');
		MUST(kiln_rcache_config_add_record(c, &kl, -1, il, -1, NULL, NULL, NULL, &rl,
						   NULL));
		MUST(kiln_rcache_config_add_record(c, &ku, rl, iu, -1, NULL, NULL, NULL, &ru,
						   NULL));
		if (records_only)
			MUST(kiln_rcache_config_sort_records(c, NULL));
		else
			MUST(kiln_rcache_config_sort(c, NULL));
		long want_lower = records_only ? 0 : 1;
		struct kiln_digest b9 = dg('9'), kd = dg('d');
		TAP_OK(kiln_digest_equal(&c->layers[want_lower].blob, &b9),
		       records_only ? "sort_records keeps the layers in their order"
				    : "sort orders the layers by blob");
		TAP_INT_EQ(c->layers[1 - want_lower].parent, want_lower,
			   "the upper layer still names the lower one");
		TAP_OK(kiln_digest_equal(&c->records[0].digest, &kd),
		       "the records are sorted by key");
		TAP_INT_EQ(c->records[0].results[0].layer, 1 - want_lower,
			   "the upper step's record names the upper layer");
		TAP_INT_EQ(c->records[1].results[0].layer, want_lower,
			   "the lower step's record names the lower layer");
	}
}

int main(void)
{
	test_build_and_write();
	test_round_trip();
	test_buildkit_config();
	test_refused();
	test_mounts();
	test_envelopes();
	test_inline();
	test_sort_records_only();
	return tap_done();
}
