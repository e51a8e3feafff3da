/* SPDX-License-Identifier: Apache-2.0 */
#include "store/oci.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "base/alloc.h"

/* ---- media types -------------------------------------------------------- */

struct mt_row {
	const char *name;
	enum kiln_mt_kind kind;
	enum kiln_mt_compression comp;
	int docker;
};

static const struct mt_row mt_table[] = {
	{ KILN_MT_OCI_MANIFEST, KILN_MT_KIND_MANIFEST, KILN_MT_COMP_NONE, 0 },
	{ KILN_MT_OCI_INDEX, KILN_MT_KIND_INDEX, KILN_MT_COMP_NONE, 0 },
	{ KILN_MT_OCI_CONFIG, KILN_MT_KIND_CONFIG, KILN_MT_COMP_NONE, 0 },
	{ KILN_MT_OCI_LAYER, KILN_MT_KIND_LAYER, KILN_MT_COMP_NONE, 0 },
	{ KILN_MT_OCI_LAYER_GZIP, KILN_MT_KIND_LAYER, KILN_MT_COMP_GZIP, 0 },
	{ KILN_MT_OCI_LAYER_ZSTD, KILN_MT_KIND_LAYER, KILN_MT_COMP_ZSTD, 0 },
	{ KILN_MT_OCI_LAYER_ND, KILN_MT_KIND_LAYER, KILN_MT_COMP_NONE, 0 },
	{ KILN_MT_OCI_LAYER_ND_GZIP, KILN_MT_KIND_LAYER, KILN_MT_COMP_GZIP, 0 },
	{ KILN_MT_OCI_LAYER_ND_ZSTD, KILN_MT_KIND_LAYER, KILN_MT_COMP_ZSTD, 0 },
	{ KILN_MT_DOCKER_MANIFEST, KILN_MT_KIND_MANIFEST, KILN_MT_COMP_NONE, 1 },
	{ KILN_MT_DOCKER_LIST, KILN_MT_KIND_INDEX, KILN_MT_COMP_NONE, 1 },
	{ KILN_MT_DOCKER_CONFIG, KILN_MT_KIND_CONFIG, KILN_MT_COMP_NONE, 1 },
	{ KILN_MT_DOCKER_LAYER, KILN_MT_KIND_LAYER, KILN_MT_COMP_NONE, 1 },
	{ KILN_MT_DOCKER_LAYER_GZIP, KILN_MT_KIND_LAYER, KILN_MT_COMP_GZIP, 1 },
	{ KILN_MT_DOCKER_LAYER_FOREIGN, KILN_MT_KIND_LAYER, KILN_MT_COMP_GZIP, 1 },
	{ KILN_MT_DOCKER_SCHEMA1, KILN_MT_KIND_SCHEMA1, KILN_MT_COMP_NONE, 1 },
	{ KILN_MT_DOCKER_SCHEMA1_SIGNED, KILN_MT_KIND_SCHEMA1, KILN_MT_COMP_NONE, 1 },
};

static const struct mt_row *mt_find(const char *mt)
{
	if (!mt)
		return NULL;
	for (size_t i = 0; i < KILN_ARRAY_SIZE(mt_table); i++)
		if (strcmp(mt_table[i].name, mt) == 0)
			return &mt_table[i];
	return NULL;
}

enum kiln_mt_kind kiln_mt_classify(const char *media_type, enum kiln_mt_compression *ret_comp)
{
	const struct mt_row *r = mt_find(media_type);
	if (ret_comp)
		*ret_comp = r ? r->comp : KILN_MT_COMP_NONE;
	return r ? r->kind : KILN_MT_KIND_UNKNOWN;
}

int kiln_mt_is_docker(const char *media_type)
{
	const struct mt_row *r = mt_find(media_type);
	return r ? r->docker : 0;
}

static int mt_restricted_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       strchr("!#$&^_.+-", c) != NULL;
}

static int mt_part_valid(const char *s, size_t n)
{
	if (n < 1 || n > 127)
		return 0;
	char c = s[0];
	if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!s[i] || !mt_restricted_char(s[i]))
			return 0;
	return 1;
}

int kiln_mt_valid(const char *s)
{
	if (!s)
		return 0;
	const char *slash = strchr(s, '/');
	if (!slash)
		return 0;
	return mt_part_valid(s, (size_t)(slash - s)) && mt_part_valid(slash + 1, strlen(slash + 1));
}

/* ---- digests (go-digest) ------------------------------------------------ */

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int kiln_oci_digest_validate(const char *s, struct kiln_error *err)
{
	const char *colon = strchr(s, ':');
	if (!colon || colon == s || !colon[1])
		return kiln_fail(err, KILN_EPARSE, 0, "invalid digest '%s': want algorithm:encoded",
				 s);
	/* algorithm: component ([+._-] component)* with components [a-z0-9]+ */
	int prev_sep = 1;
	for (const char *p = s; p < colon; p++) {
		if (is_lower_alnum(*p)) {
			prev_sep = 0;
		} else if (strchr("+._-", *p) && !prev_sep) {
			prev_sep = 1;
		} else {
			return kiln_fail(err, KILN_EPARSE, 0, "invalid digest algorithm in '%s'", s);
		}
	}
	if (prev_sep)
		return kiln_fail(err, KILN_EPARSE, 0, "invalid digest algorithm in '%s'", s);
	const char *enc = colon + 1;
	for (const char *p = enc; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '=' || c == '_' || c == '-'))
			return kiln_fail(err, KILN_EPARSE, 0, "invalid digest '%s': bad character",
					 s);
	}
	size_t alg_len = (size_t)(colon - s), want = 0;
	if (alg_len == 6 && memcmp(s, "sha256", 6) == 0)
		want = 64;
	else if (alg_len == 6 && memcmp(s, "sha384", 6) == 0)
		want = 96;
	else if (alg_len == 6 && memcmp(s, "sha512", 6) == 0)
		want = 128;
	if (want) {
		if (strlen(enc) != want)
			return kiln_fail(err, KILN_EPARSE, 0,
					 "invalid digest '%s': %.*s wants %zu hex digits", s,
					 (int)alg_len, s, want);
		for (const char *p = enc; *p; p++)
			if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
				return kiln_fail(err, KILN_EPARSE, 0,
						 "invalid digest '%s': not lower-case hex", s);
	}
	return 0;
}

/* ---- maps ------------------------------------------------------------- */

void kiln_oci_map_release(struct kiln_oci_map *m)
{
	for (size_t i = 0; i < m->len; i++) {
		free(m->items[i].key);
		free(m->items[i].value);
	}
	free(m->items);
	m->items = NULL;
	m->len = m->alloc = 0;
}

/* Index of key, or -(insertion point) - 1. Keys compare bytewise (Go's sort). */
static long map_search(const struct kiln_oci_map *m, const char *key)
{
	size_t lo = 0, hi = m->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(m->items[mid].key, key);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

int kiln_oci_map_set(struct kiln_oci_map *m, const char *key, const char *value,
		     struct kiln_error *err)
{
	cleanup_free char *v = kiln_strdup(value);
	if (!v)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	long at = map_search(m, key);
	if (at >= 0) {
		free(m->items[at].value);
		m->items[at].value = steal_ptr(&v);
		return 0;
	}
	cleanup_free char *k = kiln_strdup(key);
	if (!k)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (m->len == m->alloc) {
		size_t n = m->alloc ? m->alloc * 2 : 8;
		struct kiln_oci_kv *p = kiln_reallocarray(m->items, n, sizeof(*p));
		if (!p)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		m->items = p;
		m->alloc = n;
	}
	size_t pos = (size_t)(-at - 1);
	memmove(&m->items[pos + 1], &m->items[pos], (m->len - pos) * sizeof(*m->items));
	m->items[pos].key = steal_ptr(&k);
	m->items[pos].value = steal_ptr(&v);
	m->len++;
	return 0;
}

const char *kiln_oci_map_get(const struct kiln_oci_map *m, const char *key)
{
	long at = map_search(m, key);
	return at >= 0 ? m->items[at].value : NULL;
}

int kiln_oci_map_remove(struct kiln_oci_map *m, const char *key)
{
	long at = map_search(m, key);
	if (at < 0)
		return 0;
	free(m->items[at].key);
	free(m->items[at].value);
	memmove(&m->items[at], &m->items[at + 1], (m->len - (size_t)at - 1) * sizeof(*m->items));
	m->len--;
	return 1;
}

int kiln_oci_map_copy(struct kiln_oci_map *dst, const struct kiln_oci_map *src,
		      struct kiln_error *err)
{
	for (size_t i = 0; i < src->len; i++) {
		int r = kiln_oci_map_set(dst, src->items[i].key, src->items[i].value, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- platforms ---------------------------------------------------------- */

void kiln_oci_platform_release(struct kiln_oci_platform *p)
{
	if (!p)
		return;
	free(p->architecture);
	free(p->os);
	free(p->os_version);
	free(p->variant);
	kiln_strv_release(&p->os_features);
	memset(p, 0, sizeof(*p));
}

static int dup_opt(char **dst, const char *src)
{
	if (!src) {
		*dst = NULL;
		return 0;
	}
	*dst = kiln_strdup(src);
	return *dst ? 0 : -1;
}

int kiln_oci_platform_copy(struct kiln_oci_platform *dst, const struct kiln_oci_platform *src,
			   struct kiln_error *err)
{
	memset(dst, 0, sizeof(*dst));
	if (dup_opt(&dst->architecture, src->architecture) < 0 || dup_opt(&dst->os, src->os) < 0 ||
	    dup_opt(&dst->os_version, src->os_version) < 0 ||
	    dup_opt(&dst->variant, src->variant) < 0 ||
	    kiln_strv_copy(&dst->os_features, &src->os_features) < 0) {
		kiln_oci_platform_release(dst);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	return 0;
}

/* GOARCH spellings for what uname and users say. */
static const struct {
	const char *in;
	const char *arch;
	const char *variant;
} arch_aliases[] = {
	{ "x86_64", "amd64", NULL },   { "x86-64", "amd64", NULL }, { "amd64", "amd64", NULL },
	{ "aarch64", "arm64", NULL },  { "arm64", "arm64", NULL },  { "armhf", "arm", "v7" },
	{ "armel", "arm", "v6" },      { "armv7l", "arm", "v7" },   { "armv6l", "arm", "v6" },
	{ "armv5tel", "arm", "v5" },   { "arm", "arm", NULL },      { "i386", "386", NULL },
	{ "i686", "386", NULL },       { "386", "386", NULL },      { "ppc64le", "ppc64le", NULL },
	{ "s390x", "s390x", NULL },    { "riscv64", "riscv64", NULL },
	{ "mips64", "mips64", NULL },  { "loongarch64", "loong64", NULL },
	{ "loong64", "loong64", NULL },
};

static int set_arch(struct kiln_oci_platform *p, const char *arch, const char *variant)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(arch_aliases); i++) {
		if (strcmp(arch_aliases[i].in, arch) == 0) {
			arch = arch_aliases[i].arch;
			if (!variant)
				variant = arch_aliases[i].variant;
			break;
		}
	}
	/* containerd's normalization: arm64 has variant v8 implied, amd64 v1 */
	if (variant && ((strcmp(arch, "arm64") == 0 && strcmp(variant, "v8") == 0) ||
			(strcmp(arch, "amd64") == 0 && strcmp(variant, "v1") == 0)))
		variant = NULL;
	p->architecture = kiln_strdup(arch);
	if (!p->architecture)
		return -1;
	if (variant && !(p->variant = kiln_strdup(variant)))
		return -1;
	return 0;
}

int kiln_oci_platform_host(struct kiln_oci_platform *ret, struct kiln_error *err)
{
	struct utsname u;
	memset(ret, 0, sizeof(*ret));
	if (uname(&u) < 0)
		return kiln_fail_errno(err, "uname");
	ret->os = kiln_strdup("linux");
	if (!ret->os || set_arch(ret, u.machine, NULL) < 0) {
		kiln_oci_platform_release(ret);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	return 0;
}

static int platform_word_valid(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

int kiln_oci_platform_parse(const char *s, struct kiln_oci_platform *ret, struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	const char *p1 = strchr(s, '/');
	const char *p2 = p1 ? strchr(p1 + 1, '/') : NULL;
	if (!p1 || (p2 && strchr(p2 + 1, '/')))
		return kiln_fail(err, KILN_EINVAL, 0,
				 "invalid platform '%s': want os/arch[/variant]", s);
	size_t os_len = (size_t)(p1 - s);
	size_t arch_len = p2 ? (size_t)(p2 - p1 - 1) : strlen(p1 + 1);
	if (!platform_word_valid(s, os_len) || !platform_word_valid(p1 + 1, arch_len) ||
	    (p2 && !platform_word_valid(p2 + 1, strlen(p2 + 1))))
		return kiln_fail(err, KILN_EINVAL, 0, "invalid platform '%s'", s);
	cleanup_free char *arch = kiln_strndup(p1 + 1, arch_len);
	ret->os = kiln_strndup(s, os_len);
	if (!arch || !ret->os || set_arch(ret, arch, p2 ? p2 + 1 : NULL) < 0) {
		kiln_oci_platform_release(ret);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	return 0;
}

char *kiln_oci_platform_string(const struct kiln_oci_platform *p)
{
	if (p->variant && *p->variant)
		return kiln_asprintf("%s/%s/%s", p->os ? p->os : "", p->architecture ? p->architecture : "",
				     p->variant);
	return kiln_asprintf("%s/%s", p->os ? p->os : "", p->architecture ? p->architecture : "");
}

static int streq0(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

int kiln_oci_platform_match(const struct kiln_oci_platform *want,
			    const struct kiln_oci_platform *have)
{
	if (!streq0(want->os, have->os) || !streq0(want->architecture, have->architecture))
		return 0;
	if (want->variant && *want->variant) {
		/* an image without a variant is taken for the arch's default one */
		if (have->variant && *have->variant)
			return strcmp(want->variant, have->variant) == 0;
		return strcmp(want->architecture, "arm") != 0 || strcmp(want->variant, "v7") == 0;
	}
	return 1;
}

/* ---- descriptors -------------------------------------------------------- */

void kiln_oci_descriptor_release(struct kiln_oci_descriptor *d)
{
	if (!d)
		return;
	free(d->media_type);
	free(d->digest);
	kiln_strv_release(&d->urls);
	kiln_oci_map_release(&d->annotations);
	free(d->data);
	if (d->platform) {
		kiln_oci_platform_release(d->platform);
		free(d->platform);
	}
	free(d->artifact_type);
	memset(d, 0, sizeof(*d));
}

int kiln_oci_descriptor_copy(struct kiln_oci_descriptor *dst,
			     const struct kiln_oci_descriptor *src, struct kiln_error *err)
{
	memset(dst, 0, sizeof(*dst));
	dst->sha256 = src->sha256;
	dst->has_sha256 = src->has_sha256;
	dst->size = src->size;
	dst->has_data = src->has_data;
	dst->data_len = src->data_len;
	if (dup_opt(&dst->media_type, src->media_type) < 0 ||
	    dup_opt(&dst->digest, src->digest) < 0 ||
	    dup_opt(&dst->artifact_type, src->artifact_type) < 0 ||
	    kiln_strv_copy(&dst->urls, &src->urls) < 0)
		goto oom;
	if (src->data && !(dst->data = kiln_memdup(src->data, src->data_len ? src->data_len : 1)))
		goto oom;
	if (kiln_oci_map_copy(&dst->annotations, &src->annotations, err) < 0) {
		kiln_oci_descriptor_release(dst);
		return -KILN_ENOMEM;
	}
	if (src->platform) {
		dst->platform = kiln_calloc(1, sizeof(*dst->platform));
		if (!dst->platform)
			goto oom;
		if (kiln_oci_platform_copy(dst->platform, src->platform, err) < 0) {
			kiln_oci_descriptor_release(dst);
			return -KILN_ENOMEM;
		}
	}
	return 0;
oom:
	kiln_oci_descriptor_release(dst);
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

int kiln_oci_descriptor_set(struct kiln_oci_descriptor *d, const char *media_type,
			    const struct kiln_digest *digest, int64_t size, struct kiln_error *err)
{
	char *mt = kiln_strdup(media_type);
	char *dg = kiln_strdup(digest->str);
	if (!mt || !dg) {
		free(mt);
		free(dg);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	free(d->media_type);
	free(d->digest);
	d->media_type = mt;
	d->digest = dg;
	d->sha256 = *digest;
	d->has_sha256 = 1;
	d->size = size;
	return 0;
}

int kiln_oci_descriptor_sha256(const struct kiln_oci_descriptor *d, struct kiln_digest *ret,
			       struct kiln_error *err)
{
	if (!d->has_sha256)
		return kiln_fail(err, KILN_EUNSUPP, 0,
				 "unsupported digest '%s': kiln stores sha256 content only",
				 d->digest ? d->digest : "");
	*ret = d->sha256;
	return 0;
}

/* ---- times -------------------------------------------------------------- */

static int digits(const char *s, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * The proleptic Gregorian date of a count of days since 1970-01-01 (Howard
 * Hinnant's civil_from_days). By hand rather than gmtime_r(), whose first
 * call in a process reads /etc/localtime, time zone rules kiln never uses,
 * inside every build that writes an image.
 */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);				 /* [0, 146096] */
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);		 /* [0, 365] */
	unsigned mp = (5 * doy + 2) / 153;					 /* [0, 11] */
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* RFC 3339 as Go's time.Time.UnmarshalJSON accepts it. */
int kiln_oci_time_parse(const char *s, int64_t *ret_unix, struct kiln_error *err)
{
	int y, mo, d, h, mi, se;
	size_t n = strlen(s);
	if (n < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    se > 59)
		goto bad;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		const char *f = p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == f || p - f > 9)
			goto bad;
	}
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 ||
		    om > 59)
			goto bad;
		off = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		goto bad;
	}
	if (*p)
		goto bad;
	*ret_unix = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
	return 0;
bad:
	return kiln_fail(err, KILN_EPARSE, 0, "invalid time '%s': want RFC 3339", s);
}

char *kiln_oci_time_format(int64_t unix_sec, long nsec)
{
	/* what gmtime_r() takes: a year that fits an int */
	if (unix_sec < -67768040609740800LL || unix_sec > 67767976233532799LL)
		return NULL;
	int64_t days = unix_sec / 86400, secs = unix_sec % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	int64_t year;
	unsigned mon, mday;
	civil_from_days(days, &year, &mon, &mday);
	char frac[16] = "";
	if (nsec > 0 && nsec < 1000000000L) {
		(void)snprintf(frac, sizeof(frac), ".%09ld", nsec);
		size_t n = strlen(frac);
		while (n > 1 && frac[n - 1] == '0')
			frac[--n] = '\0';
	}
	return kiln_asprintf("%04lld-%02u-%02uT%02d:%02d:%02d%sZ", (long long)year, mon, mday,
			     (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60), frac);
}
