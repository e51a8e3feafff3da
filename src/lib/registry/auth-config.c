/* SPDX-License-Identifier: Apache-2.0 */
#include "registry/auth-config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry/registry.h"

extern char **environ;

#define HUB_KEY "https://index.docker.io/v1/"

void kiln_registry_creds_release(struct kiln_registry_creds *c)
{
	if (!c)
		return;
	if (c->password)
		explicit_bzero(c->password, strlen(c->password));
	if (c->identity_token)
		explicit_bzero(c->identity_token, strlen(c->identity_token));
	free(c->username);
	free(c->password);
	free(c->identity_token);
	memset(c, 0, sizeof(*c));
}

/*
 * base64 by hand: OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock were the only
 * reason to link libcrypto, whose error machinery drags ~2 MB of code into a
 * static link (docs/internals/footprint.md). Same output, byte for byte.
 */
static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 4648 base64 with padding; `out` has room for 4 * ((len + 2) / 3) + 1 */
static size_t b64_encode(char *out, const unsigned char *in, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned) in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned) in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	out[o] = 0;
	return o;
}

static unsigned b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned) (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (unsigned) (c - 'a') + 26;
	if (c >= '0' && c <= '9')
		return (unsigned) (c - '0') + 52;
	return c == '+' ? 62 : c == '/' ? 63 : 0; /* '=' counts as 0 */
}

/*
 * Decode `len` (a multiple of 4) characters already checked against the
 * alphabet and the padding rules; returns the bytes written, padding not
 * counted. Bits below the last whole byte are ignored, as OpenSSL did.
 */
static size_t b64_decode(unsigned char *out, const char *s, size_t len, size_t pad)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i += 4) {
		unsigned v = b64_value(s[i]) << 18 | b64_value(s[i + 1]) << 12 |
			     b64_value(s[i + 2]) << 6 | b64_value(s[i + 3]);
		out[o++] = (unsigned char) (v >> 16);
		out[o++] = (unsigned char) (v >> 8);
		out[o++] = (unsigned char) v;
	}
	return o - pad;
}

char *kiln_registry_base64(const void *data, size_t len)
{
	size_t out_len;
	if (len > ((size_t) 1 << 30) || kiln_mul_size((len + 2) / 3, 4, &out_len) < 0)
		return NULL;
	char *out = kiln_malloc(out_len + 1);
	if (!out)
		return NULL;
	(void) b64_encode(out, data, len);
	return out;
}

int kiln_registry_unbase64(const char *s, char **ret, size_t *ret_len, struct kiln_error *err)
{
	size_t len = strlen(s);
	if (len % 4 != 0 || len > ((size_t) 1 << 30))
		return kiln_fail(err, KILN_EPARSE, 0, "invalid base64");
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			 (c >= '0' && c <= '9') || c == '+' || c == '/' ||
			 (c == '=' && i >= len - 2);
		if (!ok || (i == len - 2 && c == '=' && s[len - 1] != '='))
			return kiln_fail(err, KILN_EPARSE, 0, "invalid base64");
	}
	cleanup_free char *out = kiln_malloc(len / 4 * 3 + 1);
	if (!out)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	size_t pad = len >= 1 && s[len - 1] == '=' ? (len >= 2 && s[len - 2] == '=' ? 2 : 1) : 0;
	size_t real = b64_decode((unsigned char *) out, s, len, pad);
	out[real] = 0;
	*ret = steal_ptr(&out);
	if (ret_len)
		*ret_len = real;
	return 0;
}

int kiln_registry_creds_parse(const char *s, struct kiln_registry_creds *ret,
			      struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	const char *colon = strchr(s, ':');
	size_t ulen = colon ? (size_t) (colon - s) : strlen(s);
	if (ulen == 0)
		return kiln_fail(err, KILN_EINVAL, 0,
				 "credentials need a user name: USER[:PASSWORD]");
	ret->username = kiln_strndup(s, ulen);
	ret->password = kiln_strdup(colon ? colon + 1 : "");
	if (!ret->username || !ret->password) {
		kiln_registry_creds_release(ret);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	return 0;
}

int kiln_registry_authfile_path(const char *authfile, char **ret, struct kiln_error *err)
{
	char *p;
	if (authfile && *authfile) {
		p = kiln_strdup(authfile);
	} else {
		const char *dc = getenv("DOCKER_CONFIG");
		const char *home = getenv("HOME");
		if (dc && *dc)
			p = kiln_asprintf("%s/config.json", dc);
		else if (home && *home)
			p = kiln_asprintf("%s/.docker/config.json", home);
		else
			return kiln_fail(
				err, KILN_EINVAL, 0,
				"no credentials file: neither HOME nor DOCKER_CONFIG is set "
				"(use --authfile)");
	}
	if (!p)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	*ret = p;
	return 0;
}

int kiln_registry_server_host(const char *server, char **ret, struct kiln_error *err)
{
	const char *s = server;
	if (strncmp(s, "https://", 8) == 0)
		s += 8;
	else if (strncmp(s, "http://", 7) == 0)
		s += 7;
	size_t n = strcspn(s, "/");
	if (n == 0)
		return kiln_fail(err, KILN_EINVAL, 0, "invalid registry server '%s'", server);
	*ret = kiln_strndup(s, n);
	if (!*ret)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}

static int is_hub_host(const char *h)
{
	return strcmp(h, "docker.io") == 0 || strcmp(h, "index.docker.io") == 0 ||
	       strcmp(h, "registry-1.docker.io") == 0;
}

int kiln_registry_auth_key(const char *server, char **ret, struct kiln_error *err)
{
	cleanup_free char *host = NULL;
	int r = kiln_registry_server_host(server, &host, err);
	if (r < 0)
		return r;
	if (is_hub_host(host)) {
		*ret = kiln_strdup(HUB_KEY);
		if (!*ret)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		return 0;
	}
	*ret = steal_ptr(&host);
	return 0;
}

/* Does config key `key` name registry `domain`? */
static int key_matches(const char *key, const char *domain)
{
	const char *s = key;
	if (strncmp(s, "https://", 8) == 0)
		s += 8;
	else if (strncmp(s, "http://", 7) == 0)
		s += 7;
	size_t n = strcspn(s, "/");
	if (is_hub_host(domain)) {
		char h[32];
		if (n >= sizeof(h))
			return 0;
		memcpy(h, s, n);
		h[n] = 0;
		return is_hub_host(h);
	}
	return strlen(domain) == n && memcmp(s, domain, n) == 0;
}

/* Read the config file; a missing one is an empty object. */
static int load_config(const char *path, json_t **ret, struct kiln_error *err)
{
	cleanup_free char *data = NULL;
	size_t len = 0;
	struct kiln_error e = KILN_ERROR_INIT;
	int r = kiln_read_file(path, KILN_REGISTRY_AUTHFILE_MAX, &data, &len, &e);
	if (r == -KILN_ENOTFOUND) {
		kiln_error_release(&e);
		*ret = json_object();
		if (!*ret)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		return 0;
	}
	if (r < 0) {
		kiln_error_move(err, &e);
		return r;
	}
	json_error_t je;
	json_t *root = json_loadb(data, len, 0, &je);
	if (!root)
		return kiln_fail(err, KILN_EPARSE, 0, "%s:%d: %s", path, je.line, je.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return kiln_fail(err, KILN_EPARSE, 0, "%s: not a JSON object", path);
	}
	*ret = root;
	return 0;
}

static int helper_name_ok(const char *s)
{
	if (!*s || strlen(s) > 128)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

/* The helper configured for a domain (credHelpers first, then credsStore), or NULL. */
static const char *find_helper(json_t *root, const char *domain)
{
	json_t *helpers = json_object_get(root, "credHelpers");
	if (json_is_object(helpers)) {
		const char *key;
		json_t *v;
		json_object_foreach(helpers, key, v)
		{
			if (json_is_string(v) && key_matches(key, domain))
				return json_string_value(v);
		}
	}
	json_t *store = json_object_get(root, "credsStore");
	if (json_is_string(store) && *json_string_value(store))
		return json_string_value(store);
	return NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		(void) close(*fd);
	*fd = -1;
}

/*
 * Run `docker-credential-<helper> <action>` with `input` on stdin; stdout in
 * *ret_out. Returns the exit status (>= 0), or < 0 when it could not run.
 */
static int run_helper(const struct kiln_ctx *ctx, const char *helper, const char *action,
		      const char *input, char **ret_out, struct kiln_error *err)
{
	if (!helper_name_ok(helper))
		return kiln_fail(err, KILN_EINVAL, 0, "invalid credential helper name '%s'",
				 helper);
	cleanup_free char *prog = kiln_asprintf("docker-credential-%s", helper);
	if (!prog)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		int r = kiln_fail_errno(err, "pipe");
		close_fd(&in[0]), close_fd(&in[1]), close_fd(&out[0]), close_fd(&out[1]);
		close_fd(&errp[0]), close_fd(&errp[1]);
		return r;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	char *argv[] = { prog, (char *) action, NULL };
	pid_t pid;
	kiln_debug(ctx, "running %s %s", prog, action);
	int sr = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close_fd(&in[0]), close_fd(&out[1]), close_fd(&errp[1]);
	if (sr != 0) {
		close_fd(&in[1]), close_fd(&out[0]), close_fd(&errp[0]);
		return kiln_fail(err, KILN_ECHILD, sr, "cannot run credential helper %s", prog);
	}
	/* The input is small (a URL or a JSON record); a failed write shows in the exit status. */
	(void) kiln_write_all(in[1], input, strlen(input));
	close_fd(&in[1]);

	cleanup(kiln_buf_release) struct kiln_buf ob = KILN_BUF_INIT;
	cleanup(kiln_buf_release) struct kiln_buf eb = KILN_BUF_INIT;
	ob.cap = KILN_REGISTRY_HELPER_OUTPUT_MAX;
	eb.cap = 4096;
	int fds[2] = { out[0], errp[0] };
	struct kiln_buf *bufs[2] = { &ob, &eb };
	int open_n = 2, overflow = 0;
	while (open_n > 0) {
		struct pollfd pf[2];
		int np = 0, map[2];
		for (int i = 0; i < 2; i++)
			if (fds[i] >= 0) {
				pf[np].fd = fds[i];
				pf[np].events = POLLIN;
				map[np++] = i;
			}
		if (poll(pf, (nfds_t) np, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int k = 0; k < np; k++) {
			if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			int i = map[k];
			char buf[4096];
			ssize_t n = read(fds[i], buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close_fd(&fds[i]);
				open_n--;
				continue;
			}
			if (kiln_buf_add(bufs[i], buf, (size_t) n) < 0 && i == 0)
				overflow = 1;
		}
	}
	close_fd(&fds[0]);
	close_fd(&fds[1]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return kiln_fail_errno(err, "waiting for %s", prog);
	if (overflow)
		return kiln_fail(err, KILN_ELIMIT, 0, "%s %s: more than %zu bytes of output", prog,
				 action, KILN_REGISTRY_HELPER_OUTPUT_MAX);
	if (!WIFEXITED(status))
		return kiln_fail(err, KILN_ECHILD, 0, "%s %s: killed by signal %d", prog, action,
				 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	if (WEXITSTATUS(status) != 0) {
		/* helpers print their error on stdout ("credentials not found in native keychain")
		 */
		const char *msg = ob.len ? ob.buf : eb.buf;
		size_t ml = strcspn(msg, "\n");
		*ret_out = kiln_strndup(msg, ml);
		if (!*ret_out)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		return WEXITSTATUS(status);
	}
	*ret_out = kiln_buf_detach(&ob, NULL);
	if (!*ret_out)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}

static int is_not_found(const char *msg)
{
	return strstr(msg, "credentials not found") != NULL;
}

static char *server_for(const char *domain)
{
	return kiln_strdup(is_hub_host(domain) ? HUB_KEY : domain);
}

/* 1 found, 0 not found */
static int helper_get(const struct kiln_ctx *ctx, const char *helper, const char *domain,
		      struct kiln_registry_creds *ret, struct kiln_error *err)
{
	cleanup_free char *server = server_for(domain);
	cleanup_free char *out = NULL;
	if (!server)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int st = run_helper(ctx, helper, "get", server, &out, err);
	if (st < 0)
		return st;
	if (st > 0) {
		if (is_not_found(out))
			return 0;
		return kiln_fail(err, KILN_ECHILD, 0, "docker-credential-%s get: %s", helper, out);
	}
	json_error_t je;
	cleanup(json_decrefp) json_t *root = json_loads(out, 0, &je);
	if (!json_is_object(root))
		return kiln_fail(err, KILN_EPARSE, 0,
				 "docker-credential-%s get: answer is not a JSON object", helper);
	const char *user = json_string_value(json_object_get(root, "Username"));
	const char *secret = json_string_value(json_object_get(root, "Secret"));
	if (!secret)
		return kiln_fail(err, KILN_EPARSE, 0,
				 "docker-credential-%s get: answer has no Secret", helper);
	memset(ret, 0, sizeof(*ret));
	if (user && strcmp(user, "<token>") == 0) {
		ret->identity_token = kiln_strdup(secret);
		if (!ret->identity_token)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		return 1;
	}
	ret->username = kiln_strdup(user ? user : "");
	ret->password = kiln_strdup(secret);
	if (!ret->username || !ret->password) {
		kiln_registry_creds_release(ret);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	return 1;
}

/* The auths entry for a domain: exact key first, then by host. */
static json_t *find_auth_entry(json_t *auths, const char *domain, const char **ret_key)
{
	if (!json_is_object(auths))
		return NULL;
	const char *exact = is_hub_host(domain) ? HUB_KEY : domain;
	json_t *e = json_object_get(auths, exact);
	if (json_is_object(e)) {
		*ret_key = exact;
		return e;
	}
	const char *key;
	json_t *v;
	json_object_foreach(auths, key, v)
	{
		if (json_is_object(v) && key_matches(key, domain)) {
			*ret_key = key;
			return v;
		}
	}
	return NULL;
}

static int entry_creds(const char *path, const char *key, json_t *e,
		       struct kiln_registry_creds *ret, struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	const char *auth = json_string_value(json_object_get(e, "auth"));
	const char *tok = json_string_value(json_object_get(e, "identitytoken"));
	const char *user = json_string_value(json_object_get(e, "username"));
	const char *pass = json_string_value(json_object_get(e, "password"));
	if (tok && *tok) {
		ret->identity_token = kiln_strdup(tok);
		if (!ret->identity_token)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	if (auth && *auth) {
		cleanup_free char *dec = NULL;
		size_t dlen;
		int r = kiln_registry_unbase64(auth, &dec, &dlen, err);
		if (r < 0) {
			kiln_registry_creds_release(ret);
			return kiln_error_prefix(err, r, "%s: auths[\"%s\"].auth", path, key);
		}
		char *colon = memchr(dec, ':', dlen);
		if (!colon || memchr(dec, 0, dlen)) {
			kiln_registry_creds_release(ret);
			return kiln_fail(err, KILN_EPARSE, 0,
					 "%s: auths[\"%s\"].auth is not base64 of user:password",
					 path, key);
		}
		ret->username = kiln_strndup(dec, (size_t) (colon - dec));
		ret->password = kiln_strdup(colon + 1);
		explicit_bzero(dec, dlen);
	} else if (user && pass) {
		ret->username = kiln_strdup(user);
		ret->password = kiln_strdup(pass);
	} else {
		return ret->identity_token ? 1 : 0;
	}
	if (!ret->username || !ret->password) {
		kiln_registry_creds_release(ret);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	return 1;
}

int kiln_registry_authfile_lookup(const struct kiln_ctx *ctx, const char *path, const char *domain,
				  struct kiln_registry_creds *ret, struct kiln_error *err)
{
	cleanup(json_decrefp) json_t *root = NULL;
	int r = load_config(path, &root, err);
	if (r < 0)
		return r;
	const char *helper = find_helper(root, domain);
	if (helper) {
		struct kiln_error he = KILN_ERROR_INIT;
		r = helper_get(ctx, helper, domain, ret, &he);
		if (r < 0 && he.code != KILN_ENOMEM && he.code != KILN_EINVAL &&
		    !kiln_cancelled(ctx)) {
			/* a helper that is not installed or fails (a Docker Desktop
			 * config, a locked keychain): what the file has, or no
			 * credentials, as docker and skopeo go on; a registry that
			 * needs them says so */
			cleanup_free char *why = kiln_error_format(&he);
			kiln_log(ctx, KILN_LOG_WARN, "%s; going on without its credentials",
				 why ? why : "credential helper failed");
			kiln_error_release(&he);
			r = 0;
		}
		if (r != 0) {
			kiln_error_move(err, &he);
			return r;
		}
		kiln_error_release(&he);
	}
	const char *key = NULL;
	json_t *e = find_auth_entry(json_object_get(root, "auths"), domain, &key);
	if (!e)
		return 0;
	return entry_creds(path, key, e, ret, err);
}

static int save_config(const char *path, json_t *root, struct kiln_error *err)
{
	cleanup_free char *dir = kiln_strdup(path);
	if (!dir)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		int r = kiln_mkdir_p(dir, 0700, err);
		if (r < 0)
			return r;
	}
	cleanup_free char *text = json_dumps(root, JSON_INDENT(8) | JSON_SORT_KEYS);
	if (!text)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	size_t len = strlen(text);
	cleanup_free char *withnl = kiln_asprintf("%s\n", text);
	if (!withnl)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	explicit_bzero(text, len);
	int r = kiln_write_file_atomic(path, withnl, len + 1, 0600, err);
	explicit_bzero(withnl, len + 1);
	return r;
}

int kiln_registry_authfile_store(const struct kiln_ctx *ctx, const char *path, const char *domain,
				 const char *user, const char *password, char **ret_where,
				 struct kiln_error *err)
{
	cleanup(json_decrefp) json_t *root = NULL;
	int r = load_config(path, &root, err);
	if (r < 0)
		return r;
	cleanup_free char *key = server_for(domain);
	if (!key)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	json_t *auths = json_object_get(root, "auths");
	if (!auths) {
		auths = json_object();
		if (!auths || json_object_set_new(root, "auths", auths) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	} else if (!json_is_object(auths)) {
		return kiln_fail(err, KILN_EPARSE, 0, "%s: \"auths\" is not an object", path);
	}
	/* drop other spellings of the same registry so that lookups find this one */
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(auths, tmp, k, v)
	{
		if (strcmp(k, key) != 0 && key_matches(k, domain))
			json_object_del(auths, k);
	}
	const char *helper = find_helper(root, domain);
	cleanup_free char *where = NULL;
	json_t *entry = json_object();
	if (!entry)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (helper) {
		cleanup(json_decrefp) json_t *rec = json_pack("{s:s, s:s, s:s}", "ServerURL", key,
							      "Username", user, "Secret", password);
		cleanup_free char *in = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
		cleanup_free char *out = NULL;
		if (!in) {
			json_decref(entry);
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
		int st = run_helper(ctx, helper, "store", in, &out, err);
		explicit_bzero(in, strlen(in));
		if (st != 0) {
			json_decref(entry);
			if (st < 0)
				return st;
			return kiln_fail(err, KILN_ECHILD, 0, "docker-credential-%s store: %s",
					 helper, out);
		}
		where = kiln_asprintf("docker-credential-%s", helper);
	} else {
		cleanup_free char *up = kiln_asprintf("%s:%s", user, password);
		cleanup_free char *b64 = up ? kiln_registry_base64(up, strlen(up)) : NULL;
		if (up)
			explicit_bzero(up, strlen(up));
		if (!b64 || json_object_set_new(entry, "auth", json_string(b64)) < 0) {
			json_decref(entry);
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
		explicit_bzero(b64, strlen(b64));
		where = kiln_strdup(path);
	}
	if (json_object_set_new(auths, key, entry) < 0 || !where)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	r = save_config(path, root, err);
	if (r < 0)
		return r;
	if (ret_where)
		*ret_where = steal_ptr(&where);
	return 0;
}

int kiln_registry_authfile_erase(const struct kiln_ctx *ctx, const char *path, const char *domain,
				 struct kiln_error *err)
{
	cleanup(json_decrefp) json_t *root = NULL;
	int r = load_config(path, &root, err);
	if (r < 0)
		return r;
	int found = 0;
	const char *helper = find_helper(root, domain);
	if (helper) {
		cleanup_free char *server = server_for(domain);
		cleanup_free char *out = NULL;
		if (!server)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		int st = run_helper(ctx, helper, "erase", server, &out, err);
		if (st < 0)
			return st;
		if (st > 0 && !is_not_found(out))
			return kiln_fail(err, KILN_ECHILD, 0, "docker-credential-%s erase: %s",
					 helper, out);
		found |= st == 0;
	}
	json_t *auths = json_object_get(root, "auths");
	if (json_is_object(auths)) {
		const char *k;
		json_t *v;
		void *tmp;
		json_object_foreach_safe(auths, tmp, k, v)
		{
			if (key_matches(k, domain)) {
				json_object_del(auths, k);
				found = 1;
			}
		}
	}
	if (!found)
		return kiln_fail(err, KILN_ENOTFOUND, 0, "not logged in to %s", domain);
	return save_config(path, root, err);
}
