/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registry module's pure parts: WWW-Authenticate parsing, platform
 * specifiers and selection, config.json credentials (with a credential
 * helper script), base64 and --creds.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "registry/auth-config.h"
#include "registry/platform.h"
#include "registry/registry.h"
#include "registry/www-auth.h"
#include "tap.h"

/* ---- WWW-Authenticate ---------------------------------------------------- */

/*
 * Each row: the header, and the expected rendering of the result as
 * "scheme{name=value;...}" per challenge joined by " | ", token68 as
 * "scheme[token]"; NULL when parsing must fail.
 */
static const struct {
	const char *in;
	const char *want;
} www_rows[] = {
	{ "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\"",
	  "bearer{realm=https://auth.docker.io/token;service=registry.docker.io}" },
	{ "Bearer realm=\"https://a/token\",service=\"a\",scope=\"repository:x/y:pull,push\"",
	  "bearer{realm=https://a/token;service=a;scope=repository:x/y:pull,push}" },
	{ "Basic realm=\"Registry Realm\"", "basic{realm=Registry Realm}" },
	{ "Bearer realm=\"x\", Basic realm=\"y\"", "bearer{realm=x} | basic{realm=y}" },
	{ "Negotiate, Basic realm=y", "negotiate{} | basic{realm=y}" },
	{ "Negotiate abc123==", "negotiate[abc123==]" },
	{ "Negotiate abc/+_-.~", "negotiate[abc/+_-.~]" },
	{ "Negotiate abc=, Basic realm=z", "negotiate[abc=] | basic{realm=z}" },
	{ "bEaReR ReAlM=\"x\"", "bearer{realm=x}" },
	{ "Bearer realm = \"x\" , service=y", "bearer{realm=x;service=y}" },
	{ "Bearer realm=\"a\\\"b\\\\c\"", "bearer{realm=a\"b\\c}" },
	{ "Bearer realm=\"\"", "bearer{realm=}" },
	{ "Bearer realm=tok!#$%&'*+-.^_`|~en", "bearer{realm=tok!#$%&'*+-.^_`|~en}" },
	{ "Bearer ,realm=\"x\"", "bearer{realm=x}" },
	{ "Bearer realm=\"x\",,, service=\"y\",", "bearer{realm=x;service=y}" },
	{ "  Bearer\trealm=\"x\"  ", "bearer{realm=x}" },
	{ "Basic", "basic{}" },
	{ "Basic, Bearer", "basic{} | bearer{}" },
	{ "", "" },
	{ " , ,", "" },
	{ "Bearer realm=\"\xc3\xa9\"", "bearer{realm=\xc3\xa9}" },
	/* malformed */
	{ "Bearer realm=\"unterminated", NULL },
	{ "Bearer realm=\"x\\", NULL },
	{ "=foo", NULL },
	{ "Bearer=x", NULL },
	{ "Bearer realm=\"x\" junk", NULL },
	{ "Bearer realm=a, realm=b", NULL },
	{ "Bearer realm=\"a\x01\"", NULL },
	{ "Bearer realm=\"x\"; service=y", NULL },
	{ "\"Bearer\"", NULL },
	{ "Negotiate abc== def", NULL },
	{ "Bearer @", NULL },
};

static char *render(const struct kiln_auth_challenges *c)
{
	struct kiln_buf b = KILN_BUF_INIT;
	for (size_t i = 0; i < c->len; i++) {
		const struct kiln_auth_challenge *ch = &c->items[i];
		int r = kiln_buf_addf(&b, "%s%s", i ? " | " : "", ch->scheme);
		if (ch->token68)
			r |= kiln_buf_addf(&b, "[%s]", ch->token68);
		else {
			r |= kiln_buf_addch(&b, '{');
			for (size_t j = 0; j < ch->n_params; j++)
				r |= kiln_buf_addf(&b, "%s%s=%s", j ? ";" : "", ch->params[j].name,
						   ch->params[j].value);
			r |= kiln_buf_addch(&b, '}');
		}
		if (r) {
			kiln_buf_release(&b);
			return NULL;
		}
	}
	return kiln_buf_detach(&b, NULL);
}

static void test_www_auth(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(www_rows); i++) {
		struct kiln_auth_challenges c = KILN_AUTH_CHALLENGES_INIT;
		struct kiln_error err = KILN_ERROR_INIT;
		const char *in = www_rows[i].in;
		int r = kiln_www_auth_parse(in, strlen(in), &c, &err);
		if (!www_rows[i].want) {
			TAP_OK(r < 0 && err.msg && c.len == 0, "refused: %s", in);
			if (r < 0)
				tap_diag("%s", err.msg);
		} else {
			if (r < 0)
				tap_diag("%s", err.msg);
			cleanup_free char *got = r == 0 ? render(&c) : NULL;
			TAP_STR_EQ(got, www_rows[i].want, "parsed: %s", in);
		}
		kiln_www_auth_release(&c);
		kiln_error_release(&err);
	}

	/* several headers add up; a bad one leaves the earlier result alone */
	struct kiln_auth_challenges c = KILN_AUTH_CHALLENGES_INIT;
	const char *h1 = "Bearer realm=\"r\",service=\"s\"";
	const char *h2 = "Basic realm=\"b\"";
	const char *bad = "Basic realm=\"b";
	TAP_INT_EQ(kiln_www_auth_parse(h1, strlen(h1), &c, NULL), 0, "first header");
	TAP_INT_EQ(kiln_www_auth_parse(h2, strlen(h2), &c, NULL), 0, "second header");
	TAP_INT_EQ(kiln_www_auth_parse(bad, strlen(bad), &c, NULL), -KILN_EPARSE, "bad third");
	TAP_INT_EQ(c.len, 2, "two challenges kept");
	const struct kiln_auth_challenge *b = kiln_www_auth_find(&c, "bearer");
	TAP_STR_EQ(b ? kiln_auth_challenge_param(b, "service") : NULL, "s", "find bearer service");
	TAP_OK(b && kiln_auth_challenge_param(b, "scope") == NULL, "absent param is NULL");
	TAP_OK(kiln_www_auth_find(&c, "digest") == NULL, "absent scheme is NULL");
	kiln_www_auth_release(&c);

	/* limits */
	char big[KILN_WWW_AUTH_MAX + 2];
	memset(big, 'a', sizeof(big));
	TAP_INT_EQ(kiln_www_auth_parse(big, sizeof(big), &c, NULL), -KILN_ELIMIT, "long header");
	struct kiln_buf many = KILN_BUF_INIT;
	int ok = kiln_buf_addstr(&many, "Bearer ") == 0;
	for (int i = 0; i <= KILN_WWW_AUTH_PARAMS_MAX; i++)
		ok &= kiln_buf_addf(&many, "%sp%d=v", i ? "," : "", i) == 0;
	TAP_INT_EQ(kiln_www_auth_parse(many.buf, many.len, &c, NULL), -KILN_ELIMIT,
		   "too many parameters");
	TAP_OK(ok && c.len == 0, "nothing kept after a limit");
	kiln_buf_release(&many);
	const char nul[] = "Bearer realm=\"a\0b\"";
	TAP_INT_EQ(kiln_www_auth_parse(nul, sizeof(nul) - 1, &c, NULL), -KILN_EPARSE,
		   "NUL byte refused");
}

/* ---- platforms ------------------------------------------------------------ */

static void test_platform_parse(void)
{
	static const struct {
		const char *in;
		const char *want; /* NULL: refused; "HOST": linux/<host arch> */
	} rows[] = {
		{ "linux/amd64", "linux/amd64" },
		{ "linux/x86_64", "linux/amd64" },
		{ "linux/x86-64", "linux/amd64" },
		{ "linux/amd64/v1", "linux/amd64" },
		{ "linux/amd64/v3", "linux/amd64/v3" },
		{ "linux/aarch64", "linux/arm64" },
		{ "linux/arm64/v8", "linux/arm64" },
		{ "linux/arm64/8", "linux/arm64" },
		{ "linux/arm64/v9", "linux/arm64/v9" },
		{ "linux/arm", "linux/arm/v7" },
		{ "linux/arm/7", "linux/arm/v7" },
		{ "linux/arm/6", "linux/arm/v6" },
		{ "linux/arm/v5", "linux/arm/v5" },
		{ "linux/armhf", "linux/arm/v7" },
		{ "linux/armel", "linux/arm/v6" },
		{ "linux/i386", "linux/386" },
		{ "Linux/AMD64", "linux/amd64" },
		{ "macos/arm64", "darwin/arm64" },
		{ "linux/riscv64", "linux/riscv64" },
		{ "windows/amd64", "windows/amd64" },
		{ "amd64", "linux/amd64" },
		{ "arm64", "linux/arm64" },
		{ "aarch64", "linux/arm64" },
		{ "armhf", "linux/arm/v7" },
		{ "linux", "HOST" },
		{ "", NULL },
		{ "/amd64", NULL },
		{ "linux/", NULL },
		{ "linux/amd64/", NULL },
		{ "a/b/c/d", NULL },
		{ "linux/amd64!", NULL },
		{ "linux/am d64", NULL },
		{ "frobnicator", NULL },
	};
	struct kiln_oci_platform host;
	cleanup_free char *host_s = NULL;
	if (kiln_platform_host(&host, NULL) == 0) {
		host_s = kiln_oci_platform_string(&host);
		kiln_oci_platform_release(&host);
	}
	TAP_OK(host_s && strncmp(host_s, "linux/", 6) == 0, "host platform %s",
	       host_s ? host_s : "(none)");
	for (size_t i = 0; i < KILN_ARRAY_SIZE(rows); i++) {
		struct kiln_oci_platform p;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_platform_parse(rows[i].in, &p, &err);
		if (!rows[i].want) {
			TAP_OK(r < 0 && err.msg, "platform '%s' refused", rows[i].in);
		} else {
			cleanup_free char *s = r == 0 ? kiln_oci_platform_string(&p) : NULL;
			const char *want =
				strcmp(rows[i].want, "HOST") == 0 ? host_s : rows[i].want;
			TAP_STR_EQ(s, want, "platform '%s'", rows[i].in);
		}
		if (r == 0)
			kiln_oci_platform_release(&p);
		kiln_error_release(&err);
	}
}

static int mkplat(struct kiln_oci_platform *p, const char *os, const char *arch,
		  const char *variant)
{
	memset(p, 0, sizeof(*p));
	p->os = kiln_strdup(os);
	p->architecture = kiln_strdup(arch);
	p->variant = variant ? kiln_strdup(variant) : NULL;
	return p->os && p->architecture && (!variant || p->variant) ? 0 : -1;
}

static void test_platform_rank(void)
{
	static const struct {
		const char *want_arch, *want_var, *have_os, *have_arch, *have_var;
		int rank;
	} rows[] = {
		{ "amd64", NULL, "linux", "amd64", NULL, 0 },
		{ "amd64", NULL, "linux", "x86_64", NULL, 0 },
		{ "amd64", NULL, "linux", "amd64", "v1", 0 },
		{ "amd64", NULL, "linux", "386", NULL, 1 },
		{ "amd64", NULL, "linux", "amd64", "v2", -1 },
		{ "amd64", NULL, "linux", "arm64", NULL, -1 },
		{ "amd64", NULL, "windows", "amd64", NULL, -1 },
		{ "amd64", "v3", "linux", "amd64", "v3", 0 },
		{ "amd64", "v3", "linux", "amd64", "v2", 1 },
		{ "amd64", "v3", "linux", "amd64", NULL, 2 },
		{ "amd64", "v3", "linux", "386", NULL, 3 },
		{ "arm64", NULL, "linux", "arm64", NULL, 0 },
		{ "arm64", NULL, "linux", "arm64", "v8", 0 },
		{ "arm64", NULL, "linux", "aarch64", NULL, 0 },
		{ "arm64", NULL, "linux", "arm", "v8", 1 },
		{ "arm64", NULL, "linux", "arm", "v7", 2 },
		{ "arm64", NULL, "linux", "arm", NULL, 2 },
		{ "arm64", NULL, "linux", "arm", "v5", 4 },
		{ "arm64", NULL, "linux", "amd64", NULL, -1 },
		{ "arm64", "v8.2", "linux", "arm64", "v8.1", 1 },
		{ "arm64", "v8.2", "linux", "arm64", NULL, 2 },
		{ "arm64", "v9", "linux", "arm64", "v8.5", 1 },
		{ "arm64", "v9", "linux", "arm64", "v8", 6 },
		{ "arm", "v7", "linux", "arm", NULL, 0 },
		{ "arm", "v7", "linux", "armhf", NULL, 0 },
		{ "arm", "v7", "linux", "arm", "v6", 1 },
		{ "arm", "v7", "linux", "armel", NULL, 1 },
		{ "arm", "v7", "linux", "arm", "v5", 2 },
		{ "arm", "v7", "linux", "arm", "v8", -1 },
		{ "arm", "v6", "linux", "arm", "v7", -1 },
		{ "arm", "v5", "linux", "arm", "v5", 0 },
		{ "386", NULL, "linux", "amd64", NULL, -1 },
		{ "riscv64", NULL, "linux", "riscv64", NULL, 0 },
		/* absurd variants end quickly (the fallback list is bounded) */
		{ "arm", "v99999999999999999999", "linux", "arm", "v5", -1 },
		{ "amd64", "v9223372036854775807", "linux", "amd64", "v9223372036854775806", 1 },
		{ "arm64", "v9.9", "linux", "arm64", "v8.14", 10 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(rows); i++) {
		struct kiln_oci_platform w, h;
		int ok = mkplat(&w, "linux", rows[i].want_arch, rows[i].want_var) == 0 &&
			 mkplat(&h, rows[i].have_os, rows[i].have_arch, rows[i].have_var) == 0;
		int r = ok ? kiln_platform_rank(&w, &h) : -2;
		TAP_INT_EQ(r, rows[i].rank, "want linux/%s%s%s, have %s/%s%s%s", rows[i].want_arch,
			   rows[i].want_var ? "/" : "", rows[i].want_var ? rows[i].want_var : "",
			   rows[i].have_os, rows[i].have_arch, rows[i].have_var ? "/" : "",
			   rows[i].have_var ? rows[i].have_var : "");
		kiln_oci_platform_release(&w);
		kiln_oci_platform_release(&h);
	}

	/* os.features must all be wanted */
	struct kiln_oci_platform w, h;
	if (mkplat(&w, "linux", "amd64", NULL) == 0 && mkplat(&h, "linux", "amd64", NULL) == 0 &&
	    kiln_strv_push(&h.os_features, "sse4") == 0) {
		TAP_INT_EQ(kiln_platform_rank(&w, &h), -1, "unwanted os.features do not match");
		TAP_OK(kiln_strv_push(&w.os_features, "sse4") == 0 &&
			       kiln_platform_rank(&w, &h) == 0,
		       "wanted os.features match");
	}
	kiln_oci_platform_release(&w);
	kiln_oci_platform_release(&h);
}

static void test_platform_select(void)
{
	static const struct {
		const char
			*entries; /* "os/arch[/variant]" separated by spaces; "-" = no platform */
		const char *want;
		long pick;
	} rows[] = {
		{ "linux/arm64 linux/amd64 unknown/unknown", "linux/amd64", 1 },
		{ "linux/386 linux/amd64", "linux/amd64", 1 },
		{ "linux/386 linux/arm64", "linux/amd64", 0 },
		{ "linux/arm/v6 linux/arm/v7 linux/arm64/v8", "linux/arm/v7", 1 },
		{ "linux/arm/v6 linux/arm/v7 linux/arm64/v8", "linux/arm64", 2 },
		{ "linux/arm/v5 linux/arm/v6", "linux/arm64", 1 },
		{ "linux/amd64 linux/amd64", "linux/amd64", 0 },
		{ "- linux/amd64", "linux/amd64", 1 },
		{ "linux/s390x linux/ppc64le", "linux/amd64", -1 },
		{ "-", "linux/amd64", -1 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(rows); i++) {
		struct kiln_oci_descriptor d[8];
		size_t n = 0;
		memset(d, 0, sizeof(d));
		cleanup_free char *copy = kiln_strdup(rows[i].entries);
		int ok = copy != NULL;
		for (char *save = NULL, *tok = copy ? strtok_r(copy, " ", &save) : NULL;
		     ok && tok && n < 8; tok = strtok_r(NULL, " ", &save), n++) {
			if (strcmp(tok, "-") == 0)
				continue;
			d[n].platform = kiln_calloc(1, sizeof(*d[n].platform));
			ok = d[n].platform && kiln_platform_parse(tok, d[n].platform, NULL) == 0;
			if (!ok && d[n].platform && strcmp(tok, "unknown/unknown") == 0)
				ok = mkplat(d[n].platform, "unknown", "unknown", NULL) == 0;
		}
		struct kiln_oci_platform w;
		ok = ok && kiln_platform_parse(rows[i].want, &w, NULL) == 0;
		long got = ok ? kiln_platform_select(&w, d, n) : -2;
		TAP_INT_EQ(got, rows[i].pick, "select %s from [%s]", rows[i].want, rows[i].entries);
		if (ok)
			kiln_oci_platform_release(&w);
		for (size_t j = 0; j < n; j++) {
			if (d[j].platform) {
				kiln_oci_platform_release(d[j].platform);
				free(d[j].platform);
			}
		}
	}
}

/* ---- credentials ----------------------------------------------------------- */

static void test_base64_and_creds(void)
{
	static const struct {
		const char *plain, *b64;
	} rows[] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "user:pass", "dXNlcjpwYXNz" },
		{ "kiln:s3cr\xc3\xa9t:x", "a2lsbjpzM2Nyw6l0Ong=" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(rows); i++) {
		cleanup_free char *enc = kiln_registry_base64(rows[i].plain, strlen(rows[i].plain));
		TAP_STR_EQ(enc, rows[i].b64, "base64 of '%s'", rows[i].plain);
		cleanup_free char *dec = NULL;
		size_t len = 0;
		int r = kiln_registry_unbase64(rows[i].b64, &dec, &len, NULL);
		TAP_OK(r == 0 && len == strlen(rows[i].plain) &&
			       memcmp(dec, rows[i].plain, len) == 0,
		       "unbase64 of '%s'", rows[i].b64);
	}
	static const char *const bad[] = { "Zg=", "Z", "Zm9v!", "Z===", "=Zm9", "Zg=a" };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(bad); i++) {
		char *dec = NULL;
		TAP_INT_EQ(kiln_registry_unbase64(bad[i], &dec, NULL, NULL), -KILN_EPARSE,
			   "bad base64 '%s'", bad[i]);
		free(dec);
	}

	static const struct {
		const char *in, *user, *pass;
	} creds[] = {
		{ "alice:secret", "alice", "secret" },
		{ "alice:se:cr:et", "alice", "se:cr:et" },
		{ "alice", "alice", "" },
		{ "alice:", "alice", "" },
		{ ":x", NULL, NULL },
		{ "", NULL, NULL },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(creds); i++) {
		struct kiln_registry_creds c;
		int r = kiln_registry_creds_parse(creds[i].in, &c, NULL);
		if (!creds[i].user) {
			TAP_INT_EQ(r, -KILN_EINVAL, "--creds '%s' refused", creds[i].in);
			continue;
		}
		TAP_OK(r == 0 && strcmp(c.username, creds[i].user) == 0 &&
			       strcmp(c.password, creds[i].pass) == 0,
		       "--creds '%s'", creds[i].in);
		if (r == 0)
			kiln_registry_creds_release(&c);
	}

	static const struct {
		const char *server, *key;
	} keys[] = {
		{ "docker.io", "https://index.docker.io/v1/" },
		{ "index.docker.io", "https://index.docker.io/v1/" },
		{ "https://index.docker.io/v1/", "https://index.docker.io/v1/" },
		{ "registry-1.docker.io", "https://index.docker.io/v1/" },
		{ "127.0.0.1:5000", "127.0.0.1:5000" },
		{ "https://reg.example.com:5000/v2/", "reg.example.com:5000" },
		{ "http://localhost:5000", "localhost:5000" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(keys); i++) {
		cleanup_free char *k = NULL;
		int r = kiln_registry_auth_key(keys[i].server, &k, NULL);
		TAP_STR_EQ(r == 0 ? k : NULL, keys[i].key, "auth key of %s", keys[i].server);
	}
}

static int write_text(const char *path, const char *text, mode_t mode)
{
	return kiln_write_file_atomic(path, text, strlen(text), mode, NULL);
}

static char *slurp(const char *path)
{
	char *d = NULL;
	size_t len;
	if (kiln_read_file(path, 1 << 20, &d, &len, NULL) < 0)
		return NULL;
	return d;
}

static int lookup(const char *path, const char *domain, const char *user, const char *pass)
{
	struct kiln_registry_creds c;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_registry_authfile_lookup(NULL, path, domain, &c, &err);
	if (r < 0) {
		tap_diag("lookup %s: %s", domain, err.msg);
		kiln_error_release(&err);
		return 0;
	}
	if (!user)
		return r == 0;
	int ok = r == 1 && c.username && strcmp(c.username, user) == 0 && c.password &&
		 strcmp(c.password, pass) == 0;
	kiln_registry_creds_release(&c);
	return ok;
}

static void test_authfile(const char *dir)
{
	cleanup_free char *path = kiln_asprintf("%s/docker/config.json", dir);
	if (!path)
		return;
	struct stat st;
	TAP_OK(lookup(path, "127.0.0.1:5000", NULL, NULL), "no file: no credentials");

	cleanup_free char *where = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_registry_authfile_store(NULL, path, "127.0.0.1:5000", "alice", "pa:ss", &where,
					     &err);
	TAP_INT_EQ(r, 0, "store creates the file");
	TAP_STR_EQ(where, path, "stored in the file");
	TAP_OK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "file mode 0600");
	cleanup_free char *text = slurp(path);
	TAP_OK(text && strstr(text, "\"auth\": \"YWxpY2U6cGE6c3M=\""), "base64 auth entry");
	TAP_OK(lookup(path, "127.0.0.1:5000", "alice", "pa:ss"), "lookup finds them");
	TAP_OK(lookup(path, "127.0.0.1:5001", NULL, NULL), "another port has none");

	/* other content is kept; other spellings of a host match */
	TAP_INT_EQ(write_text(path,
			      "{\"psFormat\": \"table\", \"auths\": {"
			      "\"https://reg.example.com:5000/v2/\": {\"auth\": \"Ym9iOnB3\"},"
			      "\"old.example.com\": {\"username\": \"u\", \"password\": \"p\"}}}",
			      0600),
		   0, "write a config by hand");
	TAP_OK(lookup(path, "reg.example.com:5000", "bob", "pw"), "key with scheme and path");
	TAP_OK(lookup(path, "old.example.com", "u", "p"), "username/password fields");
	r = kiln_registry_authfile_store(NULL, path, "docker.io", "carol", "x", NULL, &err);
	TAP_INT_EQ(r, 0, "store for Docker Hub");
	free(text);
	text = slurp(path);
	TAP_OK(text && strstr(text, "\"https://index.docker.io/v1/\"") &&
		       strstr(text, "\"psFormat\": \"table\""),
	       "hub key, other settings kept");
	TAP_OK(lookup(path, "docker.io", "carol", "x"), "hub lookup");
	r = kiln_registry_authfile_store(NULL, path, "reg.example.com:5000", "dave", "y", NULL,
					 &err);
	free(text);
	text = slurp(path);
	TAP_OK(r == 0 && text && !strstr(text, "https://reg.example.com:5000/v2/"),
	       "store replaces another spelling of the same host");
	TAP_OK(lookup(path, "reg.example.com:5000", "dave", "y"), "replaced");

	TAP_INT_EQ(kiln_registry_authfile_erase(NULL, path, "reg.example.com:5000", &err), 0,
		   "erase");
	TAP_OK(lookup(path, "reg.example.com:5000", NULL, NULL), "erased");
	TAP_INT_EQ(kiln_registry_authfile_erase(NULL, path, "reg.example.com:5000", &err),
		   -KILN_ENOTFOUND, "erase again: not logged in");
	TAP_STR_EQ(err.msg, "not logged in to reg.example.com:5000", "erase message");
	kiln_error_release(&err);
	TAP_OK(lookup(path, "docker.io", "carol", "x"), "other entries survive an erase");

	/* malformed files */
	TAP_INT_EQ(write_text(path, "{\"auths\": {\"h:1\": {\"auth\": \"!!!!\"}}}", 0600), 0,
		   "bad base64 file");
	struct kiln_registry_creds c;
	r = kiln_registry_authfile_lookup(NULL, path, "h:1", &c, &err);
	TAP_INT_EQ(r, -KILN_EPARSE, "bad base64 refused");
	TAP_OK(err.msg && strstr(err.msg, path), "error names the file");
	kiln_error_release(&err);
	TAP_INT_EQ(write_text(path, "{\"auths\": {\"h:1\": {\"auth\": \"bm9jb2xvbg==\"}}}", 0600),
		   0, "auth without a colon");
	TAP_INT_EQ(kiln_registry_authfile_lookup(NULL, path, "h:1", &c, NULL), -KILN_EPARSE,
		   "auth without a colon refused");
	TAP_INT_EQ(write_text(path, "{\"auths\": ", 0600), 0, "truncated file");
	r = kiln_registry_authfile_lookup(NULL, path, "h:1", &c, &err);
	TAP_INT_EQ(r, -KILN_EPARSE, "truncated JSON refused");
	kiln_error_release(&err);
	TAP_INT_EQ(write_text(path, "[1]", 0600), 0, "array file");
	TAP_INT_EQ(kiln_registry_authfile_lookup(NULL, path, "h:1", &c, NULL), -KILN_EPARSE,
		   "non-object refused");
}

/* A credential helper that keeps records in $KILN_TEST_HELPER_DB, one file per server. */
static const char helper_script[] =
	"#!/bin/sh\n"
	"db=$KILN_TEST_HELPER_DB\n"
	"read -r input\n"
	"case \"$1\" in\n"
	"get)\n"
	"  f=\"$db/$(printf %s \"$input\" | tr -c 'a-zA-Z0-9.' _)\"\n"
	"  if [ -f \"$f\" ]; then cat \"$f\"; else echo 'credentials not found in native "
	"keychain'; exit 1; fi ;;\n"
	"store)\n"
	"  server=$(printf %s \"$input\" | sed 's/.*\"ServerURL\":\"\\([^\"]*\\)\".*/\\1/')\n"
	"  f=\"$db/$(printf %s \"$server\" | tr -c 'a-zA-Z0-9.' _)\"\n"
	"  printf '%s' \"$input\" | sed 's/\"ServerURL\":\"[^\"]*\",//' >\"$f\" ;;\n"
	"erase)\n"
	"  f=\"$db/$(printf %s \"$input\" | tr -c 'a-zA-Z0-9.' _)\"\n"
	"  if [ -f \"$f\" ]; then rm \"$f\"; else echo 'credentials not found in native "
	"keychain'; exit 1; fi ;;\n"
	"*) echo unknown; exit 2 ;;\n"
	"esac\n";

static void log_to_buf(void *userdata, enum kiln_log_level level, const char *msg)
{
	(void) level;
	if (kiln_buf_addf(userdata, "%s\n", msg) < 0)
		abort();
}

static void test_helpers(const char *dir)
{
	cleanup_free char *bin = kiln_asprintf("%s/bin", dir);
	cleanup_free char *db = kiln_asprintf("%s/db", dir);
	cleanup_free char *helper = kiln_asprintf("%s/bin/docker-credential-kilntest", dir);
	cleanup_free char *path = kiln_asprintf("%s/helper.json", dir);
	const char *oldpath = getenv("PATH");
	cleanup_free char *newpath = kiln_asprintf("%s:%s", bin ? bin : "", oldpath ? oldpath : "");
	if (!bin || !db || !helper || !path || !newpath || kiln_mkdir_p(bin, 0755, NULL) < 0 ||
	    kiln_mkdir_p(db, 0700, NULL) < 0 || write_text(helper, helper_script, 0755) < 0) {
		TAP_OK(0, "helper setup");
		return;
	}
	setenv("PATH", newpath, 1);
	setenv("KILN_TEST_HELPER_DB", db, 1);

	TAP_INT_EQ(write_text(path, "{\"credHelpers\": {\"reg.test:5000\": \"kilntest\"}}", 0600),
		   0, "config with credHelpers");
	TAP_OK(lookup(path, "reg.test:5000", NULL, NULL), "helper without a record: none");
	cleanup_free char *where = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_registry_authfile_store(NULL, path, "reg.test:5000", "erin", "pw1", &where,
					     &err);
	if (r < 0)
		tap_diag("%s", err.msg);
	TAP_INT_EQ(r, 0, "store through the helper");
	TAP_STR_EQ(where, "docker-credential-kilntest", "stored by the helper");
	cleanup_free char *text = slurp(path);
	TAP_OK(text && strstr(text, "\"reg.test:5000\": {}") && !strstr(text, "pw1"),
	       "the file gets an empty entry and no secret");
	TAP_OK(lookup(path, "reg.test:5000", "erin", "pw1"), "lookup through the helper");
	TAP_INT_EQ(kiln_registry_authfile_erase(NULL, path, "reg.test:5000", &err), 0,
		   "erase through the helper");
	TAP_OK(lookup(path, "reg.test:5000", NULL, NULL), "erased from the helper");

	/* credsStore for everything; an identity token */
	cleanup_free char *rec = kiln_asprintf("%s/127.0.0.1_5001", db);
	TAP_INT_EQ(write_text(path, "{\"credsStore\": \"kilntest\"}", 0600), 0, "credsStore");
	TAP_INT_EQ(write_text(rec, "{\"Username\":\"<token>\",\"Secret\":\"refresh-me\"}", 0600), 0,
		   "a token record");
	struct kiln_registry_creds c;
	r = kiln_registry_authfile_lookup(NULL, path, "127.0.0.1:5001", &c, NULL);
	TAP_OK(r == 1 && c.identity_token && strcmp(c.identity_token, "refresh-me") == 0 &&
		       !c.username,
	       "<token> user gives an identity token");
	if (r == 1)
		kiln_registry_creds_release(&c);

	/* a helper that fails or is missing: a warning naming it, then the file's
	 * entry or no credentials, as docker goes on; a bad name is refused */
	struct kiln_buf logged = KILN_BUF_INIT;
	struct kiln_ctx lctx = { .log_level = KILN_LOG_WARN,
				 .log_fn = log_to_buf,
				 .log_userdata = &logged };
	TAP_INT_EQ(write_text(rec, "not json", 0600), 0, "garbage record");
	r = kiln_registry_authfile_lookup(&lctx, path, "127.0.0.1:5001", &c, &err);
	TAP_INT_EQ(r, 0, "garbage from the helper: no credentials");
	TAP_OK(logged.buf && strstr(logged.buf, "docker-credential-kilntest get") &&
		       strstr(logged.buf, "going on without its credentials"),
	       "garbage from the helper: a warning naming it");
	kiln_buf_reset(&logged);
	TAP_INT_EQ(write_text(path,
			      "{\"credsStore\": \"nosuchhelper\", \"auths\": {\"x:1\": "
			      "{\"auth\": \"dTpw\"}}}",
			      0600),
		   0, "missing");
	TAP_OK(lookup(path, "x:1", "u", "p"), "a missing helper: the file's entry");
	r = kiln_registry_authfile_lookup(&lctx, path, "y:1", &c, &err);
	TAP_INT_EQ(r, 0, "a missing helper: no credentials");
	TAP_OK(logged.buf && strstr(logged.buf, "docker-credential-nosuchhelper"),
	       "a missing helper: a warning naming it");
	kiln_buf_release(&logged);
	TAP_INT_EQ(write_text(path, "{\"credsStore\": \"../../bin/sh\"}", 0600), 0, "bad name");
	r = kiln_registry_authfile_lookup(NULL, path, "x:1", &c, &err);
	TAP_INT_EQ(r, -KILN_EINVAL, "a helper name with a path is refused");
	kiln_error_release(&err);
	if (oldpath)
		setenv("PATH", oldpath, 1);
}

int main(void)
{
	test_www_auth();
	test_platform_parse();
	test_platform_rank();
	test_platform_select();
	test_base64_and_creds();

	char tmpl[] = "/tmp/kiln-test-registry.XXXXXX";
	char *dir = mkdtemp(tmpl);
	if (!dir) {
		TAP_OK(0, "mkdtemp");
		return tap_done();
	}
	test_authfile(dir);
	test_helpers(dir);
	(void) kiln_rm_rf(dir, NULL);
	return tap_done();
}
