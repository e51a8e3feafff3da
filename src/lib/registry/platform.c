/* SPDX-License-Identifier: Apache-2.0 */
#include "registry/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "base/alloc.h"
#include "base/fs.h"

static void lower_in_place(char *s)
{
	for (; s && *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char) (*s - 'A' + 'a');
}

static int set_str(char **dst, const char *v)
{
	char *n = NULL;
	if (v && *v) {
		n = kiln_strdup(v);
		if (!n)
			return -1;
	}
	free(*dst);
	*dst = n;
	return 0;
}

/* containerd's normalizeArch on (arch, variant), both lower-case, in fixed buffers. */
static void normalize_arch(char *arch, size_t arch_sz, char *variant, size_t var_sz)
{
#define SET(dst, sz, v) snprintf((dst), (sz), "%s", (v))
	if (strcmp(arch, "i386") == 0) {
		SET(arch, arch_sz, "386");
		variant[0] = 0;
	} else if (strcmp(arch, "x86_64") == 0 || strcmp(arch, "x86-64") == 0 ||
		   strcmp(arch, "amd64") == 0) {
		SET(arch, arch_sz, "amd64");
		if (strcmp(variant, "v1") == 0)
			variant[0] = 0;
	} else if (strcmp(arch, "aarch64") == 0 || strcmp(arch, "arm64") == 0) {
		SET(arch, arch_sz, "arm64");
		if (strcmp(variant, "8") == 0 || strcmp(variant, "v8") == 0)
			variant[0] = 0;
	} else if (strcmp(arch, "armhf") == 0) {
		SET(arch, arch_sz, "arm");
		SET(variant, var_sz, "v7");
	} else if (strcmp(arch, "armel") == 0) {
		SET(arch, arch_sz, "arm");
		SET(variant, var_sz, "v6");
	} else if (strcmp(arch, "arm") == 0) {
		if (variant[0] == 0 || strcmp(variant, "7") == 0)
			SET(variant, var_sz, "v7");
		else if (strcmp(variant, "5") == 0 || strcmp(variant, "6") == 0 ||
			 strcmp(variant, "8") == 0) {
			char v[4] = { 'v', variant[0], 0, 0 };
			SET(variant, var_sz, v);
		}
	}
#undef SET
}

#define ARCH_SZ 64
#define VAR_SZ 64

struct triple {
	char os[ARCH_SZ];
	char arch[ARCH_SZ];
	char variant[VAR_SZ];
};

static int triple_from(const struct kiln_oci_platform *p, struct triple *t)
{
	const char *os = p->os ? p->os : "";
	const char *arch = p->architecture ? p->architecture : "";
	const char *var = p->variant ? p->variant : "";
	if (strlen(os) >= ARCH_SZ || strlen(arch) >= ARCH_SZ || strlen(var) >= VAR_SZ)
		return -1;
	snprintf(t->os, sizeof(t->os), "%s", os);
	snprintf(t->arch, sizeof(t->arch), "%s", arch);
	snprintf(t->variant, sizeof(t->variant), "%s", var);
	lower_in_place(t->os);
	lower_in_place(t->arch);
	lower_in_place(t->variant);
	if (strcmp(t->os, "macos") == 0)
		snprintf(t->os, sizeof(t->os), "darwin");
	normalize_arch(t->arch, sizeof(t->arch), t->variant, sizeof(t->variant));
	return 0;
}

int kiln_platform_normalize(struct kiln_oci_platform *p, struct kiln_error *err)
{
	struct triple t;
	if (triple_from(p, &t) < 0)
		return kiln_fail(err, KILN_ELIMIT, 0, "platform component too long");
	if (set_str(&p->os, t.os) < 0 || set_str(&p->architecture, t.arch) < 0 ||
	    set_str(&p->variant, t.variant) < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}

/* [A-Za-z0-9_.-]+ (containerd's specifierRe) */
static int component_ok(const char *s, size_t n)
{
	if (n == 0 || n >= ARCH_SZ)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

static int is_known_os(const char *os)
{
	static const char *const known[] = { "aix",	"android", "darwin",  "dragonfly",
					     "freebsd", "hurd",	   "illumos", "ios",
					     "js",	"linux",   "nacl",    "netbsd",
					     "openbsd", "plan9",   "solaris", "windows",
					     "zos" };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(known); i++)
		if (strcmp(os, known[i]) == 0)
			return 1;
	return 0;
}

static int is_known_arch(const char *a)
{
	static const char *const known[] = {
		"386",	   "amd64",    "amd64p32",  "arm",	   "armbe",   "arm64",
		"arm64be", "ppc64",    "ppc64le",   "loong64",	   "mips",    "mipsle",
		"mips64",  "mips64le", "mips64p32", "mips64p32le", "ppc",     "riscv",
		"riscv64", "s390",     "s390x",	    "sparc",	   "sparc64", "wasm",
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(known); i++)
		if (strcmp(a, known[i]) == 0)
			return 1;
	return 0;
}

static int fill(struct kiln_oci_platform *ret, const struct triple *t, struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	if (set_str(&ret->os, t->os) < 0 || set_str(&ret->architecture, t->arch) < 0 ||
	    set_str(&ret->variant, t->variant) < 0) {
		kiln_oci_platform_release(ret);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	return 0;
}

int kiln_platform_parse(const char *spec, struct kiln_oci_platform *ret, struct kiln_error *err)
{
	size_t len = strnlen(spec, KILN_PLATFORM_SPEC_MAX + 1);
	if (len > KILN_PLATFORM_SPEC_MAX)
		return kiln_fail(err, KILN_ELIMIT, 0, "platform specifier too long");
	const char *parts[3];
	size_t lens[3];
	size_t n = 0;
	const char *p = spec;
	for (;;) {
		const char *slash = strchr(p, '/');
		if (n == 3)
			return kiln_fail(err, KILN_EINVAL, 0,
					 "invalid platform '%s': want os/arch[/variant]", spec);
		parts[n] = p;
		lens[n] = slash ? (size_t) (slash - p) : strlen(p);
		if (!component_ok(parts[n], lens[n]))
			return kiln_fail(err, KILN_EINVAL, 0,
					 "invalid platform '%s': '%.*s' is not a valid component",
					 spec, (int) lens[n], parts[n]);
		n++;
		if (!slash)
			break;
		p = slash + 1;
	}
	struct triple t = { { 0 }, { 0 }, { 0 } };
	if (n == 1) {
		snprintf(t.os, sizeof(t.os), "%.*s", (int) lens[0], parts[0]);
		lower_in_place(t.os);
		if (strcmp(t.os, "macos") == 0)
			snprintf(t.os, sizeof(t.os), "darwin");
		if (is_known_os(t.os)) {
			struct kiln_oci_platform host;
			int r = kiln_platform_host(&host, err);
			if (r < 0)
				return r;
			snprintf(t.arch, sizeof(t.arch), "%s", host.architecture);
			snprintf(t.variant, sizeof(t.variant), "%s",
				 host.variant ? host.variant : "");
			kiln_oci_platform_release(&host);
			return fill(ret, &t, err);
		}
		snprintf(t.arch, sizeof(t.arch), "%s", t.os);
		t.variant[0] = 0;
		normalize_arch(t.arch, sizeof(t.arch), t.variant, sizeof(t.variant));
		if (!is_known_arch(t.arch))
			return kiln_fail(err, KILN_EINVAL, 0,
					 "invalid platform '%s': unknown operating system or "
					 "architecture",
					 spec);
		snprintf(t.os, sizeof(t.os), "linux");
		return fill(ret, &t, err);
	}
	snprintf(t.os, sizeof(t.os), "%.*s", (int) lens[0], parts[0]);
	snprintf(t.arch, sizeof(t.arch), "%.*s", (int) lens[1], parts[1]);
	if (n == 3)
		snprintf(t.variant, sizeof(t.variant), "%.*s", (int) lens[2], parts[2]);
	struct kiln_oci_platform tmp = { .os = t.os, .architecture = t.arch, .variant = t.variant };
	struct triple nt;
	if (triple_from(&tmp, &nt) < 0)
		return kiln_fail(err, KILN_ELIMIT, 0, "platform component too long");
	return fill(ret, &nt, err);
}

/* The variant of a 32-bit arm CPU, from /proc/cpuinfo's "CPU architecture". */
static const char *arm_cpu_variant(void)
{
	cleanup_free char *data = NULL;
	size_t len;
	if (kiln_read_file("/proc/cpuinfo", 1 << 20, &data, &len, NULL) < 0)
		return "v7";
	const char *line = strstr(data, "CPU architecture");
	if (!line)
		return "v7";
	const char *colon = strchr(line, ':');
	if (!colon)
		return "v7";
	long v = strtol(colon + 1, NULL, 10);
	switch (v) {
	case 5:
		return "v5";
	case 6:
		return "v6";
	case 8:
		return "v8";
	default:
		return "v7";
	}
}

int kiln_platform_host(struct kiln_oci_platform *ret, struct kiln_error *err)
{
	struct utsname u;
	if (uname(&u) < 0)
		return kiln_fail_errno(err, "uname");
	struct triple t = { "linux", { 0 }, { 0 } };
	size_t mlen = strnlen(u.machine, sizeof(u.machine));
	if (mlen >= sizeof(t.arch))
		return kiln_fail(err, KILN_EUNSUPP, 0, "unknown machine '%.*s'", (int)mlen, u.machine);
	memcpy(t.arch, u.machine, mlen);
	t.arch[mlen] = '\0';
	if (strncmp(t.arch, "armv", 4) == 0 || strcmp(t.arch, "arm") == 0) {
		snprintf(t.arch, sizeof(t.arch), "arm");
		snprintf(t.variant, sizeof(t.variant), "%s", arm_cpu_variant());
	} else if (strcmp(t.arch, "i686") == 0 || strcmp(t.arch, "i586") == 0) {
		snprintf(t.arch, sizeof(t.arch), "386");
	}
	normalize_arch(t.arch, sizeof(t.arch), t.variant, sizeof(t.variant));
	return fill(ret, &t, err);
}

#define VECTOR_MAX 32

struct vector {
	struct triple items[VECTOR_MAX];
	size_t len;
};

static void vec_add(struct vector *v, const char *os, const char *arch, const char *variant)
{
	if (v->len >= VECTOR_MAX)
		return;
	struct triple *t = &v->items[v->len++];
	snprintf(t->os, sizeof(t->os), "%s", os);
	snprintf(t->arch, sizeof(t->arch), "%s", arch);
	snprintf(t->variant, sizeof(t->variant), "%s", variant);
	/* entries are compared in normalized form (containerd's NewMatcher) */
	normalize_arch(t->arch, sizeof(t->arch), t->variant, sizeof(t->variant));
}

/* "vN" → N, or -1 */
static long variant_num(const char *v)
{
	if (v[0] != 'v' || v[1] < '0' || v[1] > '9')
		return -1;
	char *end;
	long n = strtol(v + 1, &end, 10);
	return *end ? -1 : n;
}

static void build_vector(const struct triple *p, struct vector *v, int depth)
{
	char buf[VAR_SZ];
	vec_add(v, p->os, p->arch, p->variant);
	if (strcmp(p->arch, "amd64") == 0) {
		long n = variant_num(p->variant);
		for (long i = n - 1; n > 1 && i >= 1 && v->len < VECTOR_MAX; i--) {
			snprintf(buf, sizeof(buf), "v%ld", i);
			vec_add(v, p->os, "amd64", buf);
		}
		vec_add(v, p->os, "386", "");
	} else if (strcmp(p->arch, "arm") == 0) {
		long n = variant_num(p->variant);
		for (long i = n - 1; n > 5 && i >= 5 && v->len < VECTOR_MAX; i--) {
			snprintf(buf, sizeof(buf), "v%ld", i);
			vec_add(v, p->os, "arm", buf);
		}
	} else if (strcmp(p->arch, "arm64") == 0 && depth == 0) {
		char variant[VAR_SZ];
		snprintf(variant, sizeof(variant), "%s", p->variant[0] ? p->variant : "v8");
		long major = -1, minor = 0;
		if (variant[0] == 'v') {
			char *end;
			major = strtol(variant + 1, &end, 10);
			if (end == variant + 1)
				major = -1;
			else if (*end == '.') {
				/* as containerd: only a one-digit minor ("v8.2") counts */
				char *end2;
				long m = strtol(end + 1, &end2, 10);
				if (!*end2 && end2 != end + 1 && strlen(variant) == 4)
					minor = m;
			} else if (*end) {
				major = -1;
			}
		}
		if (major >= 8) {
			if (major == 9) {
				for (long m = minor - 1; m >= 0 && v->len < VECTOR_MAX; m--) {
					if (m == 0)
						snprintf(buf, sizeof(buf), "v9");
					else
						snprintf(buf, sizeof(buf), "v9.%ld", m);
					vec_add(v, p->os, "arm64", buf);
				}
				minor += 5;
				major = 8;
				snprintf(buf, sizeof(buf), "v8.%ld", minor);
				vec_add(v, p->os, "arm64", buf);
			}
			for (long m = minor - 1; m >= 0 && v->len < VECTOR_MAX; m--) {
				if (m == 0)
					snprintf(buf, sizeof(buf), "v%ld", major);
				else
					snprintf(buf, sizeof(buf), "v%ld.%ld", major, m);
				vec_add(v, p->os, "arm64", buf);
			}
		}
		if (strncmp(variant, "v8.", 3) == 0 || strncmp(variant, "v9.", 3) == 0)
			snprintf(variant, sizeof(variant), "v8");
		struct triple arm;
		snprintf(arm.os, sizeof(arm.os), "%s", p->os);
		snprintf(arm.arch, sizeof(arm.arch), "arm");
		snprintf(arm.variant, sizeof(arm.variant), "%s", variant);
		build_vector(&arm, v, depth + 1);
	}
}

static int triple_eq(const struct triple *a, const struct triple *b)
{
	return strcmp(a->os, b->os) == 0 && strcmp(a->arch, b->arch) == 0 &&
	       strcmp(a->variant, b->variant) == 0;
}

/* Every os.feature of `have` is wanted. */
static int features_ok(const struct kiln_oci_platform *want, const struct kiln_oci_platform *have)
{
	for (size_t i = 0; i < have->os_features.len; i++)
		if (kiln_strv_find(&want->os_features, have->os_features.items[i]) < 0)
			return 0;
	return 1;
}

int kiln_platform_rank(const struct kiln_oci_platform *want, const struct kiln_oci_platform *have)
{
	struct triple w, h;
	if (triple_from(want, &w) < 0 || triple_from(have, &h) < 0)
		return -1;
	if (!features_ok(want, have))
		return -1;
	struct vector v = { .len = 0 };
	build_vector(&w, &v, 0);
	for (size_t i = 0; i < v.len; i++)
		if (triple_eq(&v.items[i], &h))
			return (int) i;
	return -1;
}

long kiln_platform_select(const struct kiln_oci_platform *want,
			  const struct kiln_oci_descriptor *manifests, size_t n)
{
	long best = -1;
	int best_rank = -1;
	for (size_t i = 0; i < n; i++) {
		if (!manifests[i].platform)
			continue;
		int r = kiln_platform_rank(want, manifests[i].platform);
		if (r >= 0 && (best_rank < 0 || r < best_rank)) {
			best = (long) i;
			best_rank = r;
		}
	}
	return best;
}
