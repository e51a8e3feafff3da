/* SPDX-License-Identifier: Apache-2.0 */
/* OCI / docker documents: validation rules, parsing, serialization. */
#include <string.h>
#include <time.h>

#include "store/json-writer.h"
#include "store/store.h"
#include "tap.h"

/* Setup steps that must work for the test to mean anything. */
#define MUST(x)                                                                                  \
	do {                                                                                     \
		if ((x) < 0) {                                                                   \
			printf("Bail out! %s failed\n", #x);                                      \
			exit(1);                                                                 \
		}                                                                                \
	} while (0)

static void test_media_types(void)
{
	static const struct {
		const char *mt;
		int valid;
	} cases[] = {
		{ "application/vnd.oci.image.manifest.v1+json", 1 },
		{ "text/plain", 1 },
		{ "a/b", 1 },
		{ "application", 0 },
		{ "/json", 0 },
		{ "application/", 0 },
		{ ".application/json", 0 },
		{ "application/.json", 0 },
		{ "application/js on", 0 },
		{ "application/json/x", 0 },
		{ "", 0 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++)
		TAP_INT_EQ(kiln_mt_valid(cases[i].mt), cases[i].valid, "media type '%s'",
			   cases[i].mt);
	char longt[200];
	memset(longt, 'a', 127);
	strcpy(longt + 127, "/b");
	TAP_INT_EQ(kiln_mt_valid(longt), 1, "127-character type is valid");
	memset(longt, 'a', 128);
	strcpy(longt + 128, "/b");
	TAP_INT_EQ(kiln_mt_valid(longt), 0, "128-character type is invalid");

	enum kiln_mt_compression c;
	TAP_INT_EQ(kiln_mt_classify(KILN_MT_DOCKER_LAYER_GZIP, &c), KILN_MT_KIND_LAYER,
		   "docker gzip layer is a layer");
	TAP_INT_EQ(c, KILN_MT_COMP_GZIP, "docker gzip layer is gzip");
	TAP_INT_EQ(kiln_mt_classify(KILN_MT_OCI_LAYER_ZSTD, &c), KILN_MT_KIND_LAYER,
		   "zstd layer is a layer");
	TAP_INT_EQ(c, KILN_MT_COMP_ZSTD, "zstd layer is zstd");
	TAP_INT_EQ(kiln_mt_classify(KILN_MT_DOCKER_LIST, NULL), KILN_MT_KIND_INDEX,
		   "manifest list is an index");
	TAP_INT_EQ(kiln_mt_classify("application/x-unknown", &c), KILN_MT_KIND_UNKNOWN,
		   "unknown media type");
	TAP_INT_EQ(kiln_mt_is_docker(KILN_MT_DOCKER_CONFIG), 1, "docker config is docker");
	TAP_INT_EQ(kiln_mt_is_docker(KILN_MT_OCI_CONFIG), 0, "OCI config is not docker");
}

static void test_digests(void)
{
	static const struct {
		const char *d;
		int valid;
	} cases[] = {
		{ "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270", 1 },
		{ "sha256:5B0BCABD1ED22E9FB1310CF6C2DEC7CDEF19F0AD69EFA1F392E94A4333501270", 0 },
		{ "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a433350127", 0 },
		{ "sha512:"
		  "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0"
		  "ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
		  1 },
		{ "sha384:abc", 0 },
		{ "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564", 1 },
		{ "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", 1 },
		{ "sha256+foo+-b:abc", 0 },
		{ "SHA256:abc", 0 },
		{ ":abc", 0 },
		{ "sha256:", 0 },
		{ "sha256", 0 },
		{ "sha256:ab/c", 0 },
		{ "sha256.:abc", 0 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++)
		TAP_INT_EQ(kiln_oci_digest_validate(cases[i].d, NULL) == 0, cases[i].valid,
			   "digest '%s'", cases[i].d);
}

static void test_times(void)
{
	static const struct {
		const char *s;
		int64_t want; /* -1 = invalid */
	} cases[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2015-10-31T22:22:56.015925234Z", 1446330176 },
		{ "2024-01-01T00:00:00+01:00", 1704063600 },
		{ "2024-01-01T00:00:00-00:30", 1704069000 },
		{ "2024-02-29T12:00:00Z", 1709208000 },
		{ "2023-02-29T12:00:00Z", -1 },
		{ "2024-01-01 00:00:00Z", -1 },
		{ "2024-01-01T00:00:00", -1 },
		{ "2024-01-01T24:00:00Z", -1 },
		{ "2024-01-01T00:00:00.Z", -1 },
		{ "2024-01-01T00:00:00.1234567891Z", -1 },
		{ "2024-1-01T00:00:00Z", -1 },
		{ "", -1 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		int64_t t = -1;
		int r = kiln_oci_time_parse(cases[i].s, &t, NULL);
		if (cases[i].want < 0)
			TAP_OK(r < 0, "time '%s' is invalid", cases[i].s);
		else
			TAP_OK(r == 0 && t == cases[i].want, "time '%s' is %lld (got %lld)",
			       cases[i].s, (long long)cases[i].want, (long long)t);
	}
	cleanup_free char *f = kiln_oci_time_format(1446330176, 15925234);
	TAP_STR_EQ(f, "2015-10-31T22:22:56.015925234Z", "format keeps nanoseconds");
	cleanup_free char *g = kiln_oci_time_format(1704067200, 500000000);
	TAP_STR_EQ(g, "2024-01-01T00:00:00.5Z", "format trims trailing zeros");
	cleanup_free char *h = kiln_oci_time_format(1704067200, 0);
	TAP_STR_EQ(h, "2024-01-01T00:00:00Z", "format without fraction");

	/* the date arithmetic is kiln's own: it must say what gmtime_r() says,
	 * around epochs, leap days and centuries, before 1970 and far after */
	static const int64_t fixed[] = { 0, -1, 86399, 86400, -86400, -86401, 951782400,
					 951868799, 4107542400, -2208988800, -62135596800,
					 253402300799, 253402300800, 67767976233532799,
					 -67768040609740800 };
	int same = 1;
	uint64_t x = 0x9E3779B97F4A7C15ull;
	for (size_t i = 0; same && i < KILN_ARRAY_SIZE(fixed) + 20000; i++) {
		int64_t t;
		if (i < KILN_ARRAY_SIZE(fixed)) {
			t = fixed[i];
		} else {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			t = (int64_t)(x % 40000000000ull) - 20000000000LL; /* ~ years 1336-2603 */
		}
		time_t tt = (time_t)t;
		struct tm tm;
		char want[64];
		if (!gmtime_r(&tt, &tm))
			continue;
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		char *got = kiln_oci_time_format(t, 0);
		if (!got || strcmp(got, want)) {
			tap_diag("%lld: got %s, want %s", (long long)t, got ? got : "NULL", want);
			same = 0;
		}
		free(got);
	}
	TAP_OK(same, "format agrees with gmtime_r over 20,000 times from year 1336 to 2603 and the limits");
	TAP_OK(kiln_oci_time_format(67767976233532800LL, 0) == NULL,
	       "a time past a year gmtime_r can hold is refused");
}

#define D256 "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270"

static void test_descriptors(void)
{
	static const struct {
		const char *json;
		int valid;
		const char *what;
	} cases[] = {
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256 "\",\"size\":1}", 1, "minimal" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256 "\",\"size\":0}", 1, "zero size" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256 "\",\"size\":-1}", 0, "negative size" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256 "\",\"size\":1.0}", 0, "real size" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256 "\",\"size\":\"1\"}", 0,
		  "string size" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256 "\"}", 0, "no size" },
		{ "{\"digest\":\"" D256 "\",\"size\":1}", 0, "no media type" },
		{ "{\"mediaType\":\"a/b\",\"size\":1}", 0, "no digest" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256 "\",\"size\":1,\"size\":2}", 0,
		  "duplicate key" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256
		  "\",\"size\":3,\"data\":\"YWJj\"}",
		  1, "data" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256 "\",\"size\":2,\"data\":\"YWI=\"}", 1,
		  "data with padding" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256 "\",\"size\":2,\"data\":\"YWI\"}", 0,
		  "data without padding" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256 "\",\"size\":2,\"data\":\"Y*I=\"}", 0,
		  "data with a bad character" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256 "\",\"size\":2,\"data\":\"YW=I\"}", 0,
		  "data with inner padding" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256
		  "\",\"size\":1,\"urls\":[\"https://x.example/a\"]}",
		  1, "url" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256 "\",\"size\":1,\"urls\":[\"value\"]}",
		  0, "relative url" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256
		  "\",\"size\":1,\"annotations\":{\"k\":\"v\"}}",
		  1, "annotations" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256
		  "\",\"size\":1,\"annotations\":{\"k\":1}}",
		  0, "non-string annotation" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256
		  "\",\"size\":1,\"platform\":{\"os\":\"linux\"}}",
		  0, "platform without architecture" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256
		  "\",\"size\":1,\"artifactType\":\"a/.b\"}",
		  0, "bad artifact type" },
		{ "[]", 0, "not an object" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256 "\",\"size\":1", 0, "truncated" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" D256 "\",\"size\":99999999999999999999}",
		  0, "size overflow" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct kiln_oci_descriptor d;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_oci_descriptor_parse(cases[i].json, strlen(cases[i].json), &d, &err);
		TAP_INT_EQ(r == 0, cases[i].valid, "descriptor: %s%s%s", cases[i].what,
			   err.msg ? " -> " : "", err.msg ? err.msg : "");
		if (r == 0)
			kiln_oci_descriptor_release(&d);
		kiln_error_release(&err);
	}
	struct kiln_oci_descriptor d;
	const char *j = "{\"mediaType\":\"a/b\",\"digest\":\"" D256 "\",\"size\":3,\"data\":\"YWJj\"}";
	TAP_OK(kiln_oci_descriptor_parse(j, strlen(j), &d, NULL) == 0 && d.has_data &&
		       d.data_len == 3 && memcmp(d.data, "abc", 3) == 0 && d.has_sha256,
	       "data decodes to its bytes; sha256 recognised");
	cleanup_free char *out = NULL;
	size_t n;
	TAP_OK(kiln_oci_descriptor_to_json(&d, &out, &n, NULL) == 0, "descriptor serializes");
	TAP_STR_EQ(out, j, "descriptor round trip keeps Go's field order");
	kiln_oci_descriptor_release(&d);
}

static void test_json_writer(void)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
		{ "plain", "\"plain\"" },
		{ "a && b", "\"a \\u0026\\u0026 b\"" },
		{ "<x>", "\"\\u003cx\\u003e\"" },
		{ "q\"b\\", "\"q\\\"b\\\\\"" },
		{ "\t\n\r\b\f", "\"\\t\\n\\r\\b\\f\"" },
		{ "\x01\x1f", "\"\\u0001\\u001f\"" },
		{ "\x7f", "\"\x7f\"" },
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
		{ "\xe2\x80\xa8", "\"\\u2028\"" },
		{ "bad\xff", "\"bad\\ufffd\"" },
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct kiln_jw w;
		kiln_jw_init(&w);
		kiln_jw_str(&w, cases[i].in);
		cleanup_free char *s = NULL;
		size_t n;
		TAP_OK(kiln_jw_finish(&w, &s, &n, NULL) == 0, "writer %zu finishes", i);
		kiln_jw_release(&w);
		TAP_STR_EQ(s, cases[i].want, "string escaping case %zu", i);
	}
	struct kiln_jw w;
	kiln_jw_init_indent(&w, 3);
	kiln_jw_obj_open(&w);
	kiln_jw_kint(&w, "a", 1);
	kiln_jw_key(&w, "b");
	kiln_jw_arr_open(&w);
	kiln_jw_str(&w, "x");
	kiln_jw_obj_open(&w);
	kiln_jw_obj_close(&w);
	kiln_jw_arr_close(&w);
	kiln_jw_key(&w, "c");
	kiln_jw_arr_open(&w);
	kiln_jw_arr_close(&w);
	kiln_jw_obj_close(&w);
	cleanup_free char *s = NULL;
	size_t n;
	TAP_OK(kiln_jw_finish(&w, &s, &n, NULL) == 0, "indented writer finishes");
	kiln_jw_release(&w);
	TAP_STR_EQ(s, "{\n   \"a\": 1,\n   \"b\": [\n      \"x\",\n      {}\n   ],\n   \"c\": []\n}",
		   "indentation matches json.MarshalIndent");
}

static void set_desc(struct kiln_oci_descriptor *d, const char *mt, const char *content,
		     int64_t size)
{
	struct kiln_digest dg;
	if (kiln_sha256_buf(content, strlen(content), &dg, NULL) < 0 ||
	    kiln_oci_descriptor_set(d, mt, &dg, size, NULL) < 0)
		abort();
}

static void test_manifest_roundtrip(void)
{
	cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
	TAP_OK(kiln_oci_manifest_new(&m, NULL) == 0, "new manifest");
	m->media_type = kiln_strdup(KILN_MT_DOCKER_MANIFEST);
	set_desc(&m->config, KILN_MT_DOCKER_CONFIG, "config", 6);
	struct kiln_oci_descriptor l = { 0 };
	set_desc(&l, KILN_MT_DOCKER_LAYER_GZIP, "layer", 5);
	TAP_OK(kiln_oci_manifest_add_layer(m, &l, NULL) == 0, "add layer");
	kiln_oci_descriptor_release(&l);
	cleanup_free char *json = NULL;
	size_t len;
	TAP_OK(kiln_oci_manifest_to_json(m, 0, &json, &len, NULL) == 0, "serialize manifest");
	struct kiln_digest cd, ld;
	(void)kiln_sha256_buf("config", 6, &cd, NULL);
	(void)kiln_sha256_buf("layer", 5, &ld, NULL);
	cleanup_free char *want = kiln_asprintf(
		"{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"%s\",\n   \"config\": {\n"
		"      \"mediaType\": \"%s\",\n      \"digest\": \"%s\",\n      \"size\": 6\n   },\n"
		"   \"layers\": [\n      {\n         \"mediaType\": \"%s\",\n"
		"         \"digest\": \"%s\",\n         \"size\": 5\n      }\n   ]\n}",
		KILN_MT_DOCKER_MANIFEST, KILN_MT_DOCKER_CONFIG, cd.str, KILN_MT_DOCKER_LAYER_GZIP,
		ld.str);
	TAP_STR_EQ(json, want, "manifest is laid out as BuildKit writes it");
	cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *back = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	TAP_OK(kiln_oci_manifest_parse(json, len, &back, &err) == 0, "manifest parses back");
	kiln_error_release(&err);
	TAP_OK(back && back->n_layers == 1 && back->layers[0].size == 5 &&
		       kiln_digest_equal(&back->config.sha256, &cd),
	       "parsed fields match");
	cleanup_free char *again = NULL;
	TAP_OK(back && kiln_oci_manifest_to_json(back, 0, &again, &len, NULL) == 0 &&
		       strcmp(again, json) == 0,
	       "serialization is stable");
	cleanup_free char *compact = NULL;
	TAP_OK(kiln_oci_manifest_to_json(m, KILN_OCI_JSON_COMPACT, &compact, &len, NULL) == 0 &&
		       !strchr(compact, '\n') && !strstr(compact, ": "),
	       "compact spelling has no whitespace");

	/* an OCI manifest needs a layer, docker schema 2 may have none */
	free(m->media_type);
	m->media_type = kiln_strdup(KILN_MT_OCI_MANIFEST);
	kiln_oci_descriptor_release(&m->layers[0]);
	m->n_layers = 0;
	cleanup_free char *bad = NULL;
	TAP_OK(kiln_oci_manifest_to_json(m, 0, &bad, &len, NULL) == -KILN_EINVAL,
	       "OCI manifest without layers is refused");
}

static void test_manifest_parse_cases(void)
{
	static const struct {
		const char *json;
		int want; /* 0 ok, else -code */
		const char *what;
	} cases[] = {
		{ "{\"schemaVersion\":2,\"mediaType\":\"" KILN_MT_DOCKER_MANIFEST
		  "\",\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D256
		  "\",\"size\":1},\"layers\":[]}",
		  0, "docker manifest without layers" },
		{ "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D256
		  "\",\"size\":1},\"layers\":[]}",
		  -KILN_EPARSE, "OCI manifest without layers" },
		{ "{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}", -KILN_EUNSUPP,
		  "schema 1" },
		{ "{\"schemaVersion\":3,\"config\":{},\"layers\":[]}", -KILN_EPARSE,
		  "schema 3" },
		{ "{\"schemaVersion\":2,\"mediaType\":\"" KILN_MT_OCI_INDEX
		  "\",\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D256
		  "\",\"size\":1},\"layers\":[{\"mediaType\":\"a/b\",\"digest\":\"" D256
		  "\",\"size\":1}]}",
		  -KILN_EPARSE, "index media type on a manifest" },
		{ "{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"a/b\",\"digest\":\"" D256
		  "\",\"size\":1}]}",
		  -KILN_EPARSE, "no config" },
		{ "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D256
		  "\",\"size\":1},\"layers\":{}}",
		  -KILN_EPARSE, "layers not an array" },
		{ "\"manifest\"", -KILN_EPARSE, "a string" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct kiln_oci_manifest *m = NULL;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_oci_manifest_parse(cases[i].json, strlen(cases[i].json), &m, &err);
		TAP_INT_EQ(r, cases[i].want, "manifest: %s (%s)", cases[i].what,
			   err.msg ? err.msg : "ok");
		kiln_oci_manifest_free(m);
		kiln_error_release(&err);
	}
	/* nesting past the depth limit is refused before anything is read */
	char deep[256] = "{\"a\":";
	for (int i = 0; i < 70; i++)
		strcat(deep, "[");
	for (int i = 0; i < 70; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	struct kiln_oci_manifest *dm = NULL;
	TAP_INT_EQ(kiln_oci_manifest_parse(deep, strlen(deep), &dm, NULL), -KILN_ELIMIT,
		   "manifest nested 70 levels deep");
	cleanup_free char *big = kiln_malloc(KILN_OCI_MANIFEST_MAX + 1);
	MUST(big ? 0 : -1);
	memset(big, ' ', KILN_OCI_MANIFEST_MAX + 1);
	TAP_INT_EQ(kiln_oci_manifest_parse(big, KILN_OCI_MANIFEST_MAX + 1, &dm, NULL), -KILN_ELIMIT,
		   "manifest larger than the limit");
	static const struct {
		const char *json;
		int want;
		const char *what;
	} detect[] = {
		{ "{\"schemaVersion\":2,\"manifests\":[]}", KILN_MT_KIND_INDEX, "index by shape" },
		{ "{\"schemaVersion\":2,\"layers\":[]}", KILN_MT_KIND_MANIFEST,
		  "manifest by shape" },
		{ "{\"mediaType\":\"" KILN_MT_DOCKER_LIST "\"}", KILN_MT_KIND_INDEX,
		  "list by media type" },
		{ "{\"mediaType\":\"" KILN_MT_DOCKER_SCHEMA1_SIGNED "\"}", -KILN_EUNSUPP,
		  "signed schema 1" },
		{ "{\"mediaType\":\"" KILN_MT_OCI_CONFIG "\"}", -KILN_EPARSE, "a config" },
		{ "{}", -KILN_EPARSE, "empty object" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(detect); i++) {
		enum kiln_mt_kind k = KILN_MT_KIND_UNKNOWN;
		int r = kiln_oci_detect(detect[i].json, strlen(detect[i].json), &k, NULL);
		TAP_INT_EQ(r, detect[i].want, "detect: %s", detect[i].what);
	}
}

static void test_config(void)
{
	const char *docker_import =
		"{\"architecture\":\"amd64\",\"comment\":\"Imported from -\",\"config\":{"
		"\"Hostname\":\"\",\"User\":\"\",\"Env\":null,\"Cmd\":null,\"Image\":\"\","
		"\"Volumes\":null,\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,"
		"\"Labels\":null},\"created\":\"2024-01-01T00:00:00.5Z\",\"docker_version\":"
		"\"20.10\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D256
		"\"]}}";
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *c = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	TAP_OK(kiln_oci_config_parse(docker_import, strlen(docker_import), &c, &err) == 0,
	       "docker's nulls are read as empty (%s)", err.msg ? err.msg : "ok");
	kiln_error_release(&err);
	TAP_OK(c && c->n_diff_ids == 1 && c->config.env.len == 0 &&
		       strcmp(c->platform.architecture, "amd64") == 0,
	       "fields read");

	static const struct {
		const char *json;
		int valid;
		const char *what;
	} cases[] = {
		{ "{\"architecture\":\"a\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		  "\"diff_ids\":[]}}",
		  1, "minimal" },
		{ "{\"architecture\":\"a\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		  "\"diff_ids\":null}}",
		  1, "null diff_ids as BuildKit writes them" },
		{ "{\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", 0,
		  "no architecture" },
		{ "{\"architecture\":\"a\",\"os\":\"linux\"}", 0, "no rootfs" },
		{ "{\"architecture\":\"a\",\"os\":\"linux\",\"rootfs\":{\"type\":\"x\","
		  "\"diff_ids\":[]}}",
		  0, "rootfs type" },
		{ "{\"architecture\":\"a\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		  "\"diff_ids\":[\"sha256:00\"]}}",
		  0, "short diff_id" },
		{ "{\"architecture\":\"a\",\"os\":\"linux\",\"config\":{\"Env\":[\"A\"]},"
		  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
		  0, "Env without =" },
		{ "{\"architecture\":\"a\",\"os\":\"linux\",\"config\":{\"Env\":[\"=A\"]},"
		  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
		  0, "Env with an empty name" },
		{ "{\"architecture\":\"a\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=\"]},"
		  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
		  1, "Env with an empty value" },
		{ "{\"architecture\":\"a\",\"os\":\"linux\",\"created\":\"yesterday\","
		  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
		  0, "created not RFC 3339" },
		{ "{\"architecture\":\"a\",\"os\":\"linux\",\"config\":{\"Volumes\":[\"/a\"]},"
		  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
		  0, "Volumes as a list" },
		{ "{\"architecture\":\"a\",\"os\":\"linux\",\"config\":{\"ExposedPorts\":"
		  "{\"80/tcp\":1}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
		  0, "port with a non-object value" },
		{ "{\"architecture\":\"a\",\"os\":\"linux\",\"history\":\"x\","
		  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
		  0, "history as a string" },
		{ "{\"architecture\":\"a\",\"os\":\"linux\",\"config\":{\"User\":0},"
		  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
		  0, "numeric User" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct kiln_oci_config *x = NULL;
		struct kiln_error e = KILN_ERROR_INIT;
		int r = kiln_oci_config_parse(cases[i].json, strlen(cases[i].json), &x, &e);
		TAP_INT_EQ(r == 0, cases[i].valid, "config: %s (%s)", cases[i].what,
			   e.msg ? e.msg : "ok");
		kiln_oci_config_free(x);
		kiln_error_release(&e);
	}

	/* what kiln writes: BuildKit's layout */
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *n = NULL;
	TAP_OK(kiln_oci_config_new(&n, NULL) == 0, "new config");
	n->platform.architecture = kiln_strdup("amd64");
	n->platform.os = kiln_strdup("linux");
	n->created = kiln_strdup("2024-01-01T00:00:00Z");
	MUST(kiln_strv_push(&n->config.env, "PATH=/bin"));
	MUST(kiln_strv_push(&n->config.cmd, "sh"));
	MUST(kiln_strv_push(&n->config.exposed_ports, "443/tcp"));
	MUST(kiln_strv_push(&n->config.exposed_ports, "80/tcp"));
	MUST(kiln_oci_map_set(&n->config.labels, "b", "2", NULL));
	MUST(kiln_oci_map_set(&n->config.labels, "a", "1", NULL));
	n->config.working_dir = kiln_strdup("/");
	struct kiln_digest did;
	(void)kiln_digest_parse(D256, &did, NULL);
	MUST(kiln_oci_config_add_diff_id(n, &did, NULL));
	struct kiln_oci_history h = { .created = (char *)"2024-01-01T00:00:00Z",
				      .created_by = (char *)"RUN a && b <c>",
				      .comment = (char *)"buildkit.dockerfile.v0" };
	MUST(kiln_oci_config_add_history(n, &h, NULL));
	cleanup_free char *json = NULL;
	size_t len;
	TAP_OK(kiln_oci_config_to_json(n, &json, &len, NULL) == 0, "config serializes");
	TAP_STR_EQ(json,
		   "{\"architecture\":\"amd64\",\"config\":{\"ExposedPorts\":{\"443/tcp\":{},"
		   "\"80/tcp\":{}},\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"sh\"],\"WorkingDir\":\"/\","
		   "\"Labels\":{\"a\":\"1\",\"b\":\"2\"}},\"created\":\"2024-01-01T00:00:00Z\","
		   "\"history\":[{\"created\":\"2024-01-01T00:00:00Z\",\"created_by\":\"RUN a "
		   "\\u0026\\u0026 b \\u003cc\\u003e\",\"comment\":\"buildkit.dockerfile.v0\"}],"
		   "\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D256
		   "\"]}}",
		   "config has sorted top-level keys and Go's struct order inside");
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *back = NULL;
	TAP_OK(kiln_oci_config_parse(json, len, &back, NULL) == 0 && back->n_history == 1 &&
		       strcmp(back->history[0].created_by, "RUN a && b <c>") == 0,
	       "escaped config parses back to the same text");
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *cp = NULL;
	cleanup_free char *json2 = NULL;
	TAP_OK(kiln_oci_config_copy(n, &cp, NULL) == 0 &&
		       kiln_oci_config_to_json(cp, &json2, &len, NULL) == 0 &&
		       strcmp(json, json2) == 0,
	       "a copy serializes identically");
	MUST(kiln_strv_push(&n->config.env, "BROKEN"));
	cleanup_free char *bad = NULL;
	TAP_OK(kiln_oci_config_to_json(n, &bad, &len, NULL) == -KILN_EINVAL,
	       "an Env entry without = is refused on write");
}

static void test_platforms(void)
{
	static const struct {
		const char *in;
		const char *want; /* NULL = invalid */
	} cases[] = {
		{ "linux/amd64", "linux/amd64" },   { "linux/x86_64", "linux/amd64" },
		{ "linux/arm64/v8", "linux/arm64" }, { "linux/arm/v7", "linux/arm/v7" },
		{ "linux/aarch64", "linux/arm64" }, { "linux/armhf", "linux/arm/v7" },
		{ "linux", NULL },                  { "linux/", NULL },
		{ "linux/amd64/v2/x", NULL },       { "Linux/amd64", NULL },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct kiln_oci_platform p;
		int r = kiln_oci_platform_parse(cases[i].in, &p, NULL);
		if (!cases[i].want) {
			TAP_OK(r < 0, "platform '%s' is invalid", cases[i].in);
			continue;
		}
		cleanup_free char *s = r == 0 ? kiln_oci_platform_string(&p) : NULL;
		TAP_STR_EQ(s, cases[i].want, "platform '%s'", cases[i].in);
		if (r == 0)
			kiln_oci_platform_release(&p);
	}
	struct kiln_oci_platform want, have;
	MUST(kiln_oci_platform_parse("linux/arm/v7", &want, NULL));
	MUST(kiln_oci_platform_parse("linux/arm", &have, NULL));
	TAP_OK(kiln_oci_platform_match(&want, &have), "arm without variant matches arm/v7");
	kiln_oci_platform_release(&have);
	MUST(kiln_oci_platform_parse("linux/arm/v6", &have, NULL));
	TAP_OK(!kiln_oci_platform_match(&want, &have), "arm/v6 does not match arm/v7");
	kiln_oci_platform_release(&have);
	kiln_oci_platform_release(&want);
	struct kiln_oci_platform host;
	/* Called before TAP_OK: its arguments are evaluated in no set order. */
	int host_r = kiln_oci_platform_host(&host, NULL);
	TAP_OK(host_r == 0 && strcmp(host.os, "linux") == 0,
	       "host platform is linux/%s", host.architecture ? host.architecture : "?");
	kiln_oci_platform_release(&host);
}

static void test_map(void)
{
	struct kiln_oci_map m = { 0 };
	static const char *const keys[] = { "m", "b", "z", "a", "b" };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(keys); i++)
		MUST(kiln_oci_map_set(&m, keys[i], keys[i], NULL));
	TAP_INT_EQ(m.len, 4, "a duplicate key replaces");
	TAP_OK(m.len == 4 && strcmp(m.items[0].key, "a") == 0 && strcmp(m.items[3].key, "z") == 0,
	       "keys are sorted");
	TAP_STR_EQ(kiln_oci_map_get(&m, "m"), "m", "lookup");
	TAP_INT_EQ(kiln_oci_map_remove(&m, "m"), 1, "remove present key");
	TAP_INT_EQ(kiln_oci_map_remove(&m, "m"), 0, "remove absent key");
	TAP_OK(kiln_oci_map_get(&m, "m") == NULL, "removed key is gone");
	kiln_oci_map_release(&m);
}

/*
 * Allocation failures (in a -Dfailmalloc=true build; elsewhere one pass):
 * fail the 1st, 2nd, ... allocation of a parse + copy + write cycle until it
 * succeeds. Every failure must come back as -KILN_ENOMEM, never a crash or a
 * leak (ASan checks the latter).
 */
static int cycle(const char *json, int config)
{
	char *out = NULL;
	size_t len;
	int r;
	if (config) {
		struct kiln_oci_config *c = NULL, *cp = NULL;
		r = kiln_oci_config_parse(json, strlen(json), &c, NULL);
		if (r == 0)
			r = kiln_oci_config_copy(c, &cp, NULL);
		if (r == 0)
			r = kiln_oci_config_to_json(cp, &out, &len, NULL);
		kiln_oci_config_free(c);
		kiln_oci_config_free(cp);
	} else {
		struct kiln_oci_manifest *m = NULL;
		r = kiln_oci_manifest_parse(json, strlen(json), &m, NULL);
		if (r == 0)
			r = kiln_oci_manifest_to_json(m, 0, &out, &len, NULL);
		kiln_oci_manifest_free(m);
	}
	free(out);
	return r;
}

static void test_alloc_failures(void)
{
	static const char manifest[] =
		"{\"schemaVersion\":2,\"mediaType\":\"" KILN_MT_OCI_MANIFEST
		"\",\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D256
		"\",\"size\":1,\"annotations\":{\"k\":\"v\"}},\"layers\":[{\"mediaType\":"
		"\"a/b\",\"digest\":\"" D256 "\",\"size\":2,\"urls\":[\"https://x/y\"],"
		"\"data\":\"YWI=\",\"platform\":{\"os\":\"linux\",\"architecture\":\"a\","
		"\"os.features\":[\"f\"]}}],\"subject\":{\"mediaType\":\"a/b\",\"digest\":\"" D256
		"\",\"size\":3}}";
	static const char config[] =
		"{\"architecture\":\"a\",\"os\":\"linux\",\"created\":\"2024-01-01T00:00:00Z\","
		"\"config\":{\"User\":\"u\",\"Env\":[\"A=1\"],\"Cmd\":[\"sh\"],\"ExposedPorts\":"
		"{\"80/tcp\":{}},\"Volumes\":{\"/v\":{}},\"Labels\":{\"l\":\"v\"},\"Healthcheck\":"
		"{\"Test\":[\"CMD\"]},\"OnBuild\":[\"x\"],\"Shell\":[\"sh\"]},\"rootfs\":{\"type\":"
		"\"layers\",\"diff_ids\":[\"" D256 "\"]},\"history\":[{\"created_by\":\"x\"}]}";
	for (int which = 0; which < 2; which++) {
		int bad = 0, n;
		for (n = 1; n < 100000; n++) {
			kiln_alloc_fail_after(n);
			int r = cycle(which ? config : manifest, which);
			kiln_alloc_fail_after(-1);
			if (r == 0)
				break;
			if (r != -KILN_ENOMEM && !bad) {
				bad = 1;
				tap_diag("failing allocation %d gave %d, not -KILN_ENOMEM", n, r);
			}
		}
		TAP_OK(!bad && n < 100000, "%s survives allocation failures (%d passes)",
		       which ? "config" : "manifest", n);
	}
}

int main(void)
{
	test_media_types();
	test_digests();
	test_times();
	test_descriptors();
	test_json_writer();
	test_manifest_roundtrip();
	test_manifest_parse_cases();
	test_config();
	test_platforms();
	test_map();
	test_alloc_failures();
	return tap_done();
}
