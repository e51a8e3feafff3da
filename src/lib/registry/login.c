/* SPDX-License-Identifier: Apache-2.0 */
/* kiln login / logout: check credentials against the registry, then file them. */
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"
#include "registry/registry-private.h"

/* "https://index.docker.io/v1/" → "docker.io"; "host:5000/x" → "host:5000" */
static int server_domain(const char *server, char **ret, struct kiln_error *err)
{
	cleanup_free char *host = NULL;
	int r = kiln_registry_server_host(server, &host, err);
	if (r < 0)
		return r;
	if (strcmp(host, "index.docker.io") == 0 || strcmp(host, "registry-1.docker.io") == 0) {
		free(host);
		host = kiln_strdup("docker.io");
		if (!host)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	if (!kiln_ref_domain_valid(host, strlen(host)))
		return kiln_fail(err, KILN_EINVAL, 0, "'%s' is not a registry host[:port]", server);
	*ret = steal_ptr(&host);
	return 0;
}

int kiln_registry_login(const struct kiln_ctx *ctx, const char *server, const char *user,
			const char *password, const struct kiln_registry_opts *o, char **ret_where,
			struct kiln_error *err)
{
	struct kiln_registry_opts copy = { 0 };
	if (o)
		copy = *o;
	cleanup_free char *domain = NULL;
	int r = server_domain(server, &domain, err);
	if (r < 0)
		return r;
	if (!user || !*user)
		return kiln_fail(err, KILN_EINVAL, 0, "a user name is needed to log in");
	if (strchr(user, ':'))
		return kiln_fail(err, KILN_EINVAL, 0, "a user name cannot contain ':'");
	cleanup_free char *path = NULL;
	if ((r = kiln_registry_authfile_path(copy.authfile, &path, err)) < 0)
		return r;

	/* the client uses exactly these credentials (split at the first ':') */
	cleanup_free char *creds = kiln_asprintf("%s:%s", user, password ? password : "");
	if (!creds)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	copy.creds = creds;
	cleanup(reg_client_freep) struct reg_client *c = NULL;
	r = reg_client_new(ctx, domain, &copy, &c, err);
	explicit_bzero(creds, strlen(creds));
	if (r < 0)
		return r;
	if ((r = reg_client_ping(c, err)) < 0)
		return r;

	/* /v2/ with the credentials: a token for them, or Basic auth */
	cleanup_free char *url = kiln_asprintf("%s/v2/", c->base);
	if (!url)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	cleanup(reg_xfer_freep) struct reg_xfer *x = NULL;
	if ((r = reg_xfer_new(c, "GET", url, NULL, &x, err)) < 0)
		return r;
	x->what = "login";
	if ((r = reg_do(c, x, err)) < 0)
		return kiln_error_prefix(err, r, "login to %s", domain);
	if (x->status != 200)
		return kiln_error_prefix(err, reg_fail_status(c, x, err), "login to %s", domain);
	kiln_debug(ctx, "registry %s accepted the credentials of %s", domain, user);
	return kiln_registry_authfile_store(ctx, path, domain, user, password ? password : "",
					    ret_where, err);
}

int kiln_registry_logout(const struct kiln_ctx *ctx, const char *server,
			 const struct kiln_registry_opts *o, struct kiln_error *err)
{
	cleanup_free char *domain = NULL;
	int r = server_domain(server, &domain, err);
	if (r < 0)
		return r;
	cleanup_free char *path = NULL;
	if ((r = kiln_registry_authfile_path(o ? o->authfile : NULL, &path, err)) < 0)
		return r;
	return kiln_registry_authfile_erase(ctx, path, domain, err);
}
