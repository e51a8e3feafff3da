/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "base/base.h"
#include "ref/ref.h"
#include "tap.h"

#define D64 "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"

/* Valid references: input -> full string, domain, path, familiar string. */
static const struct {
	const char *in, *full, *domain, *path, *familiar;
} valid[] = {
	{ "busybox", "docker.io/library/busybox", "docker.io", "library/busybox", "busybox" },
	{ "busybox:1.36", "docker.io/library/busybox:1.36", "docker.io", "library/busybox",
	  "busybox:1.36" },
	{ "library/debian", "docker.io/library/debian", "docker.io", "library/debian", "debian" },
	{ "docker.io/debian", "docker.io/library/debian", "docker.io", "library/debian", "debian" },
	{ "index.docker.io/debian", "docker.io/library/debian", "docker.io", "library/debian",
	  "debian" },
	{ "index.docker.io/docker/docker", "docker.io/docker/docker", "docker.io", "docker/docker",
	  "docker/docker" },
	{ "docker.io/library/foo/bar", "docker.io/library/foo/bar", "docker.io", "library/foo/bar",
	  "library/foo/bar" },
	{ "fooo/bar", "docker.io/fooo/bar", "docker.io", "fooo/bar", "fooo/bar" },
	{ "other/library", "docker.io/other/library", "docker.io", "other/library",
	  "other/library" },
	{ "store/foo/bar", "docker.io/store/foo/bar", "docker.io", "store/foo/bar",
	  "store/foo/bar" },
	{ "127.0.0.1:5000/docker/docker", "127.0.0.1:5000/docker/docker", "127.0.0.1:5000",
	  "docker/docker", "127.0.0.1:5000/docker/docker" },
	{ "127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase", "127.0.0.1:8000",
	  "privatebase", "127.0.0.1:8000/privatebase" },
	{ "example.com:8000/private/moonbase:v2", "example.com:8000/private/moonbase:v2",
	  "example.com:8000", "private/moonbase", "example.com:8000/private/moonbase:v2" },
	{ "localhost/x", "localhost/x", "localhost", "x", "localhost/x" },
	{ "localhost:5000/a/b:t", "localhost:5000/a/b:t", "localhost:5000", "a/b",
	  "localhost:5000/a/b:t" },
	/* no '/': always a docker.io name, so "host:port" alone is name:tag */
	{ "localhost:5000", "docker.io/library/localhost:5000", "docker.io", "library/localhost",
	  "localhost:5000" },
	{ "192.168.0.1", "docker.io/library/192.168.0.1", "docker.io", "library/192.168.0.1",
	  "192.168.0.1" },
	{ "192.168.0.1:80", "docker.io/library/192.168.0.1:80", "docker.io", "library/192.168.0.1",
	  "192.168.0.1:80" },
	{ "192.168.0.2:25000/debian", "192.168.0.2:25000/debian", "192.168.0.2:25000", "debian",
	  "192.168.0.2:25000/debian" },
	{ "[fc00::1]:5000/docker", "[fc00::1]:5000/docker", "[fc00::1]:5000", "docker",
	  "[fc00::1]:5000/docker" },
	{ "[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
	  "[fc00:1:2:3:4:5:6:7]:5000", "library/debian",
	  "[fc00:1:2:3:4:5:6:7]:5000/library/debian" },
	{ "[::1]/x", "[::1]/x", "[::1]", "x", "[::1]/x" },
	{ "test.com/foo", "test.com/foo", "test.com", "foo", "test.com/foo" },
	{ "test_com/foo", "docker.io/test_com/foo", "docker.io", "test_com/foo", "test_com/foo" },
	{ "test-com:8080/foo", "test-com:8080/foo", "test-com:8080", "foo", "test-com:8080/foo" },
	{ "xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo",
	  "xn--n3h.com:18080/foo" },
	/* upper case in the first element makes it a domain */
	{ "Foo/bar", "Foo/bar", "Foo", "bar", "Foo/bar" },
	{ "DOCKER/docker", "DOCKER/docker", "DOCKER", "docker", "DOCKER/docker" },
	{ "docker.io/" D64, "docker.io/library/" D64, "docker.io", "library/" D64, D64 },
	{ "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
	  "docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
	  "docker.io", "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
	  "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev" },
	{ "docker---rules/docker", "docker.io/docker---rules/docker", "docker.io",
	  "docker---rules/docker", "docker---rules/docker" },
	{ "dock__er/d", "docker.io/dock__er/d", "docker.io", "dock__er/d", "dock__er/d" },
	{ "a.b_c-d/e", "docker.io/a.b_c-d/e", "a.b_c-d", "e", NULL }, /* invalid domain: below */
	{ "busybox@sha256:" D64, "docker.io/library/busybox@sha256:" D64, "docker.io",
	  "library/busybox", "busybox@sha256:" D64 },
	{ "busybox:latest@sha256:" D64, "docker.io/library/busybox:latest@sha256:" D64, "docker.io",
	  "library/busybox", "busybox:latest@sha256:" D64 },
	{ "host:5000/ns/repo:tag@sha256:" D64, "host:5000/ns/repo:tag@sha256:" D64, "host:5000",
	  "ns/repo", "host:5000/ns/repo:tag@sha256:" D64 },
	{ "foo:Tag_1.2-x", "docker.io/library/foo:Tag_1.2-x", "docker.io", "library/foo",
	  "foo:Tag_1.2-x" },
	{ "docker.io/a.b/c", "docker.io/a.b/c", "docker.io", "a.b/c", "docker.io/a.b/c" },
	{ "docker.io/localhost/c", "docker.io/localhost/c", "docker.io", "localhost/c",
	  "docker.io/localhost/c" },
	{ "foo:_", "docker.io/library/foo:_", "docker.io", "library/foo", "foo:_" },
	{ "sha256:" D64, "docker.io/library/sha256:" D64, "docker.io", "library/sha256",
	  "sha256:" D64 },
};

/* Invalid references and the message distribution gives for them. */
static const struct {
	const char *in;
	int code;
	const char *msg;
} invalid[] = {
	{ "", KILN_EPARSE, "invalid reference format" },
	{ "https://github.com/docker/docker", KILN_EPARSE, "invalid reference format" },
	{ "docker/Docker", KILN_EPARSE,
	  "invalid reference format: repository name (docker/Docker) must be lowercase" },
	{ "Busybox", KILN_EPARSE,
	  "invalid reference format: repository name (library/Busybox) must be lowercase" },
	{ "docker.io/docker/Docker:tag", KILN_EPARSE,
	  "invalid reference format: repository name (docker/Docker) must be lowercase" },
	{ "-docker", KILN_EPARSE, "invalid reference format" },
	{ "-docker/docker", KILN_EPARSE, "invalid reference format" },
	{ "-docker.io/docker/docker", KILN_EPARSE, "invalid reference format" },
	{ "docker-/docker", KILN_EPARSE, "invalid reference format" },
	{ "docker///docker", KILN_EPARSE, "invalid reference format" },
	{ "docker.io/docker///docker", KILN_EPARSE, "invalid reference format" },
	{ "docker/", KILN_EPARSE, "invalid reference format" },
	{ "____/____", KILN_EPARSE, "invalid reference format" },
	{ "_docker/_docker", KILN_EPARSE, "invalid reference format" },
	{ "dock..er/docker", KILN_EPARSE, "invalid reference format" },
	{ "dock_.er/docker", KILN_EPARSE, "invalid reference format" },
	{ "dock-.er/docker", KILN_EPARSE, "invalid reference format" },
	{ "dock___er/docker", KILN_EPARSE, "invalid reference format" },
	{ "[fc00::1]", KILN_EPARSE, "invalid reference format" },
	{ "[fc00::1]:5000", KILN_EPARSE, "invalid reference format" },
	{ "fc00::1:5000/debian", KILN_EPARSE, "invalid reference format" },
	{ "[fe80::1%eth0]:5000/debian", KILN_EPARSE, "invalid reference format" },
	{ "[2001:db8:3:4::192.0.2.33]:5000/debian", KILN_EPARSE, "invalid reference format" },
	{ "host:/x", KILN_EPARSE, "invalid reference format" },
	{ "host:port/x", KILN_EPARSE, "invalid reference format" },
	{ "my_host.com/x", KILN_EPARSE, "invalid reference format" },
	{ D64, KILN_EPARSE,
	  "invalid repository name (" D64 "), cannot specify 64-byte hexadecimal strings" },
	{ "foo:", KILN_EPARSE, "invalid reference format" },
	{ "foo:-x", KILN_EPARSE, "invalid reference format" },
	{ "foo:.x", KILN_EPARSE, "invalid reference format" },
	{ "foo:a/b", KILN_EPARSE, "invalid reference format" },
	{ "foo bar", KILN_EPARSE, "invalid reference format" },
	{ "foo@", KILN_EPARSE, "invalid reference format" },
	{ "foo@sha256:abc", KILN_EPARSE, "invalid reference format" },
	{ "foo@sha256:" D64 "00", KILN_EPARSE, "invalid checksum digest length" },
	{ "foo@sha256:DBCC1C35AC38DF41FD2F5E4130B32FFDB93EBAE8B3DBE638C23575912276FC9C",
	  KILN_EPARSE, "invalid checksum digest format" },
	{ "foo@md5:d41d8cd98f00b204e9800998ecf8427e", KILN_EUNSUPP,
	  "unsupported digest algorithm" },
	{ "foo@sha256:" D64 "@sha256:" D64, KILN_EPARSE, "invalid reference format" },
	{ "foo:a:b", KILN_EPARSE, "invalid reference format" },
	{ "localhost/", KILN_EPARSE, "invalid reference format" },
	{ "/foo", KILN_EPARSE, "invalid reference format" },
	{ "foo/", KILN_EPARSE, "invalid reference format" },
	{ "example.com/foo/:tag", KILN_EPARSE, "invalid reference format" },
	{ "a/"
	  "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_"
	  "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_"
	  "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_"
	  "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker",
	  KILN_ELIMIT, "repository name must not be more than 255 characters" },
};

static void test_valid(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(valid); i++) {
		struct kiln_error err = KILN_ERROR_INIT;
		cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
		int r = kiln_ref_parse(valid[i].in, 0, &ref, &err);
		if (!valid[i].familiar) {
			TAP_OK(r < 0, "%s: a first element that is not a domain is refused",
			       valid[i].in);
			kiln_error_release(&err);
			continue;
		}
		if (!TAP_OK(r == 0, "%s parses", valid[i].in)) {
			tap_diag("%s", err.msg);
			kiln_error_release(&err);
			continue;
		}
		cleanup_free char *full = kiln_ref_string(ref);
		cleanup_free char *fam = kiln_ref_familiar_string(ref);
		TAP_STR_EQ(full, valid[i].full, "%s: full string", valid[i].in);
		TAP_STR_EQ(ref->domain, valid[i].domain, "%s: domain", valid[i].in);
		TAP_STR_EQ(ref->path, valid[i].path, "%s: path", valid[i].in);
		TAP_STR_EQ(fam, valid[i].familiar, "%s: familiar string", valid[i].in);

		/* The full string is canonical: it parses back to itself. */
		cleanup(kiln_ref_freep) struct kiln_ref *again = NULL;
		r = kiln_ref_parse_canonical(full, &again, &err);
		cleanup_free char *full2 = r == 0 ? kiln_ref_string(again) : NULL;
		TAP_STR_EQ(full2, full, "%s: canonical round trip", valid[i].in);
		kiln_error_release(&err);
	}
}

static void test_invalid(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(invalid); i++) {
		struct kiln_error err = KILN_ERROR_INIT;
		struct kiln_ref *ref = NULL;
		int r = kiln_ref_parse(invalid[i].in, 0, &ref, &err);
		TAP_INT_EQ(r, -invalid[i].code, "'%s' is refused with the right code",
			   invalid[i].in);
		TAP_STR_EQ(err.msg, invalid[i].msg, "'%s': message", invalid[i].in);
		TAP_OK(ref == NULL, "'%s': no result on failure", invalid[i].in);
		kiln_error_release(&err);
	}
}

static void test_default_tag(void)
{
	static const struct {
		const char *in, *want;
	} rows[] = {
		{ "busybox", "docker.io/library/busybox:latest" },
		{ "busybox:1", "docker.io/library/busybox:1" },
		{ "busybox@sha256:" D64, "docker.io/library/busybox@sha256:" D64 },
		{ "localhost:5000/x", "localhost:5000/x:latest" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(rows); i++) {
		cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
		int r = kiln_ref_parse(rows[i].in, KILN_REF_DEFAULT_TAG_LATEST, &ref, NULL);
		cleanup_free char *s = r == 0 ? kiln_ref_string(ref) : NULL;
		TAP_STR_EQ(s, rows[i].want, "default tag for %s", rows[i].in);
	}
}

static void test_canonical(void)
{
	static const struct {
		const char *in;
		const char *want; /* NULL: refused */
	} rows[] = {
		{ "docker.io/library/busybox:latest", "docker.io/library/busybox:latest" },
		{ "localhost:5000/a", "localhost:5000/a" },
		{ "busybox", NULL },
		{ "busybox:latest", NULL },
		{ "docker.io/busybox", NULL },
		{ "index.docker.io/library/busybox", NULL },
		{ "Foo/bar", "Foo/bar" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(rows); i++) {
		struct kiln_error err = KILN_ERROR_INIT;
		cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
		int r = kiln_ref_parse_canonical(rows[i].in, &ref, &err);
		if (!rows[i].want) {
			TAP_STR_EQ(err.msg, "repository name must be canonical",
				   "canonical parse refuses %s", rows[i].in);
		} else {
			cleanup_free char *s = r == 0 ? kiln_ref_string(ref) : NULL;
			TAP_STR_EQ(s, rows[i].want, "canonical parse of %s", rows[i].in);
		}
		kiln_error_release(&err);
	}
}

static void test_tags_and_digests(void)
{
	static const struct {
		const char *tag;
		int ok;
	} tags[] = {
		{ "latest", 1 }, { "1.0", 1 }, { "_x", 1 },  { "A-b.C_d", 1 }, { "", 0 },
		{ "-x", 0 },	 { ".x", 0 },  { "a/b", 0 }, { "a:b", 0 },     { "a b", 0 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(tags); i++)
		TAP_INT_EQ(kiln_ref_tag_valid(tags[i].tag), tags[i].ok, "tag '%s'", tags[i].tag);
	char longtag[130];
	memset(longtag, 'a', sizeof(longtag));
	longtag[128] = 0;
	TAP_INT_EQ(kiln_ref_tag_valid(longtag), 1, "a 128-character tag is valid");
	longtag[128] = 'a';
	longtag[129] = 0;
	TAP_INT_EQ(kiln_ref_tag_valid(longtag), 0, "a 129-character tag is not");

	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	TAP_INT_EQ(kiln_ref_parse("busybox", 0, &ref, NULL), 0, "parse busybox");
	TAP_INT_EQ(kiln_ref_set_tag(ref, "-foo", &err), -KILN_EPARSE, "set_tag validates");
	TAP_STR_EQ(err.msg, "invalid tag format", "set_tag message");
	kiln_error_release(&err);
	TAP_INT_EQ(kiln_ref_set_digest(ref, "foo", &err), -KILN_EPARSE, "set_digest validates");
	TAP_STR_EQ(err.msg, "invalid digest format", "set_digest message");
	kiln_error_release(&err);
	TAP_INT_EQ(kiln_ref_set_tag(ref, "v1", NULL), 0, "set_tag");
	TAP_INT_EQ(kiln_ref_set_digest(ref, "sha256:" D64, NULL), 0, "set_digest");
	cleanup_free char *s = kiln_ref_string(ref);
	TAP_STR_EQ(s, "docker.io/library/busybox:v1@sha256:" D64, "tag and digest set");
	cleanup(kiln_ref_freep) struct kiln_ref *copy = NULL;
	TAP_INT_EQ(kiln_ref_dup(ref, &copy, NULL), 0, "dup");
	TAP_INT_EQ(kiln_ref_set_tag(ref, NULL, NULL), 0, "clear tag");
	cleanup_free char *s2 = kiln_ref_familiar_string(ref);
	TAP_STR_EQ(s2, "busybox@sha256:" D64, "tag cleared");
	cleanup_free char *s3 = kiln_ref_string(copy);
	TAP_STR_EQ(s3, "docker.io/library/busybox:v1@sha256:" D64, "the copy is independent");

	static const struct {
		const char *d;
		int r;
	} digests[] = {
		{ "sha256:" D64, 0 },
		{ "sha512:" D64 D64, 0 },
		{ "sha384:" D64 "0123456789abcdef0123456789abcdef", 0 },
		{ "sha256:" D64 "0", -KILN_EPARSE },
		{ "sha256:", -KILN_EPARSE },
		{ ":abc", -KILN_EPARSE },
		{ "sha256", -KILN_EPARSE },
		{ "blake3:" D64, -KILN_EUNSUPP },
		{ "Blake3:" D64, -KILN_EPARSE },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(digests); i++)
		TAP_INT_EQ(kiln_ref_digest_validate(digests[i].d, strlen(digests[i].d), NULL),
			   digests[i].r, "digest %s", digests[i].d);
}

static void test_domains(void)
{
	static const struct {
		const char *s;
		int ok;
	} rows[] = {
		{ "localhost", 1 }, { "a.b.c", 1 }, { "a-b.c:1", 1 }, { "[::1]:5000", 1 },
		{ "[::1]", 1 },	    { "a:", 0 },    { "-a.b", 0 },    { "a-.b", 0 },
		{ "a..b", 0 },	    { "[]", 0 },    { "[::1", 0 },    { "[::1]x", 0 },
		{ "a_b.c", 0 },	    { "a:1:2", 0 }, { "", 0 },	      { "A.B", 1 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(rows); i++)
		TAP_INT_EQ(kiln_ref_domain_valid(rows[i].s, strlen(rows[i].s)), rows[i].ok,
			   "domain '%s'", rows[i].s);
}

static void test_limits(void)
{
	/* 255 characters of path is the most distribution allows */
	char path[300] = "example.com/";
	size_t n = strlen(path);
	memset(path + n, 'a', 255);
	path[n + 255] = 0;
	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	TAP_INT_EQ(kiln_ref_parse(path, 0, &ref, NULL), 0, "255-character path");
	path[n + 255] = 'a';
	path[n + 256] = 0;
	struct kiln_ref *ref2 = NULL;
	TAP_INT_EQ(kiln_ref_parse(path, 0, &ref2, NULL), -KILN_ELIMIT, "256-character path");

	cleanup_free char *huge = kiln_malloc(KILN_REF_INPUT_MAX + 2);
	if (huge) {
		memset(huge, 'a', KILN_REF_INPUT_MAX + 1);
		huge[KILN_REF_INPUT_MAX + 1] = 0;
		TAP_INT_EQ(kiln_ref_parse(huge, 0, &ref2, NULL), -KILN_ELIMIT, "huge input");
	}
	TAP_INT_EQ(kiln_ref_is_identifier(D64), 1, "identifier");
	TAP_INT_EQ(kiln_ref_is_identifier("abc"), 0, "short hex is not an identifier");
}

int main(void)
{
	test_valid();
	test_invalid();
	test_default_tag();
	test_canonical();
	test_tags_and_digests();
	test_domains();
	test_limits();
	return tap_done();
}
