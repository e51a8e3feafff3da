/* SPDX-License-Identifier: Apache-2.0 */
#include "platform.h"

#include <string.h>
#include <sys/utsname.h>

#include "base/buf.h"
#include "base/gotext.h"
#include "model-internal.h"

static const char *const known_os[] = {
	"aix",	 "android", "darwin", "dragonfly", "freebsd", "hurd",	 "illumos", "ios", "js",
	"linux", "nacl",    "netbsd", "openbsd",   "plan9",   "solaris", "windows", "zos",
};

static const char *const known_arch[] = {
	"386",	   "amd64",    "amd64p32",  "arm",	   "armbe",   "arm64",
	"arm64be", "ppc64",    "ppc64le",   "loong64",	   "mips",    "mipsle",
	"mips64",  "mips64le", "mips64p32", "mips64p32le", "ppc",     "riscv",
	"riscv64", "s390",     "s390x",	    "sparc",	   "sparc64", "wasm",
};

static int in_list(const char *s, const char *const *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, l[i]))
			return 1;
	return 0;
}

void kiln_df_platform_release(struct kiln_df_platform *p)
{
	if (!p)
		return;
	free(p->os);
	free(p->arch);
	free(p->variant);
	free(p->os_version);
	memset(p, 0, sizeof(*p));
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char) (*s + 32);
}

static int set(char **dst, const char *s)
{
	char *c = kiln_strdup(s);
	if (!c)
		return -KILN_ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

static int normalize_arch(struct kiln_df_platform *p)
{
	lower(p->arch);
	lower(p->variant);
	const char *a = p->arch, *v = p->variant;
	const char *na = NULL, *nv = NULL;
	if (!strcmp(a, "i386")) {
		na = "386", nv = "";
	} else if (!strcmp(a, "x86_64") || !strcmp(a, "x86-64") || !strcmp(a, "amd64")) {
		na = "amd64";
		if (!strcmp(v, "v1"))
			nv = "";
	} else if (!strcmp(a, "aarch64") || !strcmp(a, "arm64")) {
		na = "arm64";
		if (!strcmp(v, "8") || !strcmp(v, "v8") || !strcmp(v, "v8.0"))
			nv = "v8";
	} else if (!strcmp(a, "armhf")) {
		na = "arm", nv = "v7";
	} else if (!strcmp(a, "armel")) {
		na = "arm", nv = "v6";
	} else if (!strcmp(a, "arm")) {
		if (!*v || !strcmp(v, "7"))
			nv = "v7";
		else if (!strcmp(v, "5"))
			nv = "v5";
		else if (!strcmp(v, "6"))
			nv = "v6";
		else if (!strcmp(v, "8"))
			nv = "v8";
	}
	if ((na && set(&p->arch, na) < 0) || (nv && set(&p->variant, nv) < 0))
		return -KILN_ENOMEM;
	return 0;
}

static int quoted(struct kiln_buf *b, const char *s)
{
	return kiln_go_quote(b, s, strlen(s));
}

static int invalid(struct kiln_error *err, const char *what, const char *part, const char *spec,
		   const char *re)
{
	struct kiln_buf a = KILN_BUF_INIT, b = KILN_BUF_INIT, c = KILN_BUF_INIT;
	int r = 0;
	if ((part && quoted(&a, part) < 0) || quoted(&b, spec) < 0 || (re && quoted(&c, re) < 0))
		r = df_oom(err);
	else if (!strcmp(what, "os"))
		r = kiln_fail(
			err, KILN_EINVAL, 0,
			"%s is an invalid OS component of %s: OSAndVersion specifier component "
			"must match %s: invalid argument",
			a.buf, b.buf, c.buf);
	else if (!strcmp(what, "component"))
		r = kiln_fail(err, KILN_EINVAL, 0,
			      "%s is an invalid component of %s: platform specifier component must "
			      "match %s: invalid argument",
			      a.buf, b.buf, c.buf);
	else
		r = kiln_fail(err, KILN_EINVAL, 0, "%s: %s: invalid argument", b.buf, what);
	kiln_buf_release(&a);
	kiln_buf_release(&b);
	kiln_buf_release(&c);
	return r;
}

static int spec_char(char c, int dot)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || (dot && c == '.');
}

#define SPECIFIER_RE "^[A-Za-z0-9_.-]+$"
#define OS_RE "^([A-Za-z0-9_-]+)(?:\\(([A-Za-z0-9_.-]*)\\))?$"

int kiln_df_platform_parse(const char *s, struct kiln_df_platform *ret, struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	if (strchr(s, '*'))
		return invalid(err, "wildcards not yet supported", NULL, s, NULL);
	/* strings.SplitN(s, "/", 4) */
	const char *parts[4];
	size_t lens[4], n = 0;
	const char *p = s;
	while (n < 3) {
		const char *sl = strchr(p, '/');
		if (!sl)
			break;
		parts[n] = p;
		lens[n++] = (size_t) (sl - p);
		p = sl + 1;
	}
	parts[n] = p;
	lens[n++] = strlen(p);

	struct kiln_df_platform pl = { 0 };
	int r = 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		cleanup_free char *part = kiln_strndup(parts[i], lens[i]);
		if (!part) {
			r = df_oom(err);
			break;
		}
		if (i == 0) {
			/* os[(version)] */
			size_t k = 0;
			while (part[k] && spec_char(part[k], 0))
				k++;
			int ok = k > 0;
			const char *ver = "";
			size_t vlen = 0;
			if (ok && part[k]) {
				size_t v = k + 1, e;
				ok = part[k] == '(';
				for (e = v; ok && part[e] && spec_char(part[e], 1); e++)
					;
				ok = ok && part[e] == ')' && part[e + 1] == '\0';
				ver = part + v;
				vlen = ok ? e - v : 0;
			}
			if (!ok) {
				r = invalid(err, "os", part, s, OS_RE);
				break;
			}
			pl.os = kiln_strndup(part, k);
			pl.os_version = kiln_strndup(ver, vlen);
			if (!pl.os || !pl.os_version) {
				r = df_oom(err);
				break;
			}
			lower(pl.os);
			if (!strcmp(pl.os, "macos"))
				r = set(&pl.os, "darwin");
		} else {
			int ok = *part != '\0';
			for (const char *q = part; ok && *q; q++)
				ok = spec_char(*q, 1);
			if (!ok)
				r = invalid(err, "component", part, s, SPECIFIER_RE);
		}
	}
	if (r < 0) {
		kiln_df_platform_release(&pl);
		return r == -KILN_ENOMEM ? df_oom(err) : r;
	}
	struct kiln_df_platform host = { 0 };
	if (n == 1) {
		if (in_list(pl.os, known_os, KILN_ARRAY_SIZE(known_os))) {
			r = kiln_df_platform_host(&host, err);
			if (r >= 0) {
				pl.arch = host.arch, host.arch = NULL;
				pl.variant = kiln_strdup(strcmp(pl.arch, "arm") == 0 ? host.variant
										     : "");
			}
		} else {
			/* not an OS: maybe an architecture */
			pl.arch = kiln_strndup(parts[0], lens[0]);
			pl.variant = kiln_strdup("");
			r = (pl.arch && pl.variant) ? normalize_arch(&pl) : -KILN_ENOMEM;
			if (r >= 0 && !strcmp(pl.arch, "arm") && !strcmp(pl.variant, "v7"))
				r = set(&pl.variant, "");
			if (r >= 0 && in_list(pl.arch, known_arch, KILN_ARRAY_SIZE(known_arch))) {
				r = set(&pl.os, "linux");
				if (r >= 0)
					r = set(&pl.os_version, "");
			} else if (r >= 0) {
				r = invalid(err, "unknown operating system or architecture", NULL,
					    s, NULL);
			}
		}
	} else if (n == 2 || n == 3) {
		pl.arch = kiln_strndup(parts[1], lens[1]);
		pl.variant = n == 3 ? kiln_strndup(parts[2], lens[2]) : kiln_strdup("");
		r = (pl.arch && pl.variant) ? normalize_arch(&pl) : -KILN_ENOMEM;
		if (r >= 0 && n == 2 && !strcmp(pl.arch, "arm") && !strcmp(pl.variant, "v7"))
			r = set(&pl.variant, "");
		if (r >= 0 && n == 3 && !strcmp(pl.arch, "arm64") && !*pl.variant)
			r = set(&pl.variant, "v8");
	} else {
		r = invalid(err, "cannot parse platform specifier", NULL, s, NULL);
	}
	kiln_df_platform_release(&host);
	if (r >= 0 && (!pl.os || !pl.arch || !pl.variant || !pl.os_version))
		r = -KILN_ENOMEM;
	if (r < 0) {
		kiln_df_platform_release(&pl);
		return r == -KILN_ENOMEM ? df_oom(err) : r;
	}
	*ret = pl;
	return 0;
}

int kiln_df_platform_normalize(struct kiln_df_platform *p)
{
	if (!p->arch || !p->variant)
		return 0;
	/* what Parse keeps that Normalize's newer normalizeArch changes */
	if (!strcmp(p->arch, "arm64") && !strcmp(p->variant, "v8"))
		return set(&p->variant, "");
	if (!strcmp(p->arch, "arm") && !*p->variant)
		return set(&p->variant, "v7");
	return 0;
}

int kiln_df_platform_host(struct kiln_df_platform *ret, struct kiln_error *err)
{
	struct utsname u;
	memset(ret, 0, sizeof(*ret));
	const char *arch = "amd64", *variant = "";
	if (uname(&u) == 0) {
		const char *m = u.machine;
		if (!strcmp(m, "x86_64"))
			arch = "amd64";
		else if (!strcmp(m, "aarch64") || !strcmp(m, "arm64"))
			arch = "arm64", variant = "v8";
		else if (!strncmp(m, "armv7", 5))
			arch = "arm", variant = "v7";
		else if (!strncmp(m, "armv6", 5))
			arch = "arm", variant = "v6";
		else if (!strncmp(m, "armv5", 5))
			arch = "arm", variant = "v5";
		else if (m[0] == 'i' && m[2] == '8' && m[3] == '6' && !m[4])
			arch = "386";
		else
			arch = m; /* ppc64le, s390x, riscv64, mips64, ... */
	}
	ret->os = kiln_strdup("linux");
	ret->arch = kiln_strdup(arch);
	ret->variant = kiln_strdup(variant);
	ret->os_version = kiln_strdup("");
	if (!ret->os || !ret->arch || !ret->variant || !ret->os_version) {
		kiln_df_platform_release(ret);
		return df_oom(err);
	}
	return 0;
}

static char *format(const struct kiln_df_platform *p, int all)
{
	struct kiln_buf b = KILN_BUF_INIT;
	/* no printf: the stage graph formats the platforms for every Dockerfile */
	int r = kiln_buf_addstr(&b, p->os && *p->os ? p->os : "unknown");
	if (r >= 0 && all && p->os_version && *p->os_version) {
		r = kiln_buf_addch(&b, '(');
		if (r >= 0)
			r = kiln_buf_addstr(&b, p->os_version);
		if (r >= 0)
			r = kiln_buf_addch(&b, ')');
	}
	if (r >= 0 && p->arch && *p->arch && (r = kiln_buf_addch(&b, '/')) >= 0)
		r = kiln_buf_addstr(&b, p->arch);
	if (r >= 0 && p->variant && *p->variant && (r = kiln_buf_addch(&b, '/')) >= 0)
		r = kiln_buf_addstr(&b, p->variant);
	if (r < 0) {
		kiln_buf_release(&b);
		return NULL;
	}
	return kiln_buf_detach(&b, NULL);
}

char *kiln_df_platform_format(const struct kiln_df_platform *p)
{
	return format(p, 0);
}

char *kiln_df_platform_format_all(const struct kiln_df_platform *p)
{
	return format(p, 1);
}

int kiln_df_platform_copy(const struct kiln_df_platform *src, struct kiln_df_platform *ret,
			  struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	ret->os = kiln_strdup(src->os ? src->os : "");
	ret->arch = kiln_strdup(src->arch ? src->arch : "");
	ret->variant = kiln_strdup(src->variant ? src->variant : "");
	ret->os_version = kiln_strdup(src->os_version ? src->os_version : "");
	if (!ret->os || !ret->arch || !ret->variant || !ret->os_version) {
		kiln_df_platform_release(ret);
		return df_oom(err);
	}
	return 0;
}
