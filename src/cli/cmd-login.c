/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cmd-pull.h"
#include "registry/registry.h"

#define PASSWORD_MAX ((size_t) 64 << 10)

static struct cli_registry_args arg_reg = { .retries = -1 };
static const char *arg_user;
static const char *arg_password;
static int arg_password_stdin;

static const struct cli_spec spec = {
	.usage = "kiln login [-u USER] [-p PASSWORD | --password-stdin] [options] SERVER",
	.summary = "Check credentials against a registry and store them.",
	.opts =
		(const struct cli_opt[]){
			{ "username", 'u', CLI_OPT_STRING, &arg_user, "USER", "user name" },
			{ "password", 'p', CLI_OPT_STRING, &arg_password, "PASSWORD",
			  "password (visible to other users of the machine; prefer "
			  "--password-stdin)" },
			{ "password-stdin", 0, CLI_OPT_FLAG, &arg_password_stdin, NULL,
			  "read the password from standard input" },
			CLI_REGISTRY_TLS_OPTS(arg_reg),
			{ .long_name = NULL },
		},
	.details =
		"SERVER is host[:port] (Docker Hub: docker.io). The registry must accept the\n"
		"credentials (a token for them, or Basic auth on /v2/) before they are stored:\n"
		"through the credential helper configured for the server (credHelpers or\n"
		"credsStore in the credentials file), else base64 in its \"auths\" (mode 0600).\n"
		"Without -u or a password, both are asked for on the terminal.",
};

/* One line from the terminal, without echo when `secret`. */
static char *prompt(const char *what, int secret)
{
	struct termios saved, t;
	int restore = 0;
	fprintf(stderr, "%s: ", what);
	fflush(stderr);
	if (secret && tcgetattr(STDIN_FILENO, &saved) == 0) {
		t = saved;
		t.c_lflag &= ~(tcflag_t) ECHO;
		restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (restore) {
		(void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	if (n < 0) {
		free(line);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = 0;
	return line;
}

int cmd_login(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len != 1)
		return cli_usage_error(&spec, "want one SERVER");
	if (arg_password && arg_password_stdin)
		return cli_usage_error(&spec, "--password and --password-stdin exclude each other");
	if (arg_password_stdin && !arg_user)
		return cli_usage_error(&spec, "--password-stdin needs --username");
	struct kiln_registry_opts o;
	if ((r = cli_registry_opts(&spec, &arg_reg, &o)) != 0)
		return r;

	cleanup_free char *user = arg_user ? kiln_strdup(arg_user) : NULL;
	cleanup_free char *password = NULL;
	if (arg_password_stdin) {
		size_t len = 0;
		if (kiln_read_fd(STDIN_FILENO, PASSWORD_MAX, &password, &len, &err) < 0) {
			(void) kiln_error_prefix(&err, -(int) err.code, "reading the password");
			return cli_report(env, &err);
		}
		while (len > 0 && (password[len - 1] == '\n' || password[len - 1] == '\r'))
			password[--len] = 0;
	} else if (arg_password) {
		cli_warn(env, "a password on the command line is visible to other users; use "
			      "--password-stdin");
		password = kiln_strdup(arg_password);
	} else {
		if (!isatty(STDIN_FILENO))
			return cli_usage_error(&spec,
					       "cannot ask for a password: standard input is "
					       "not a terminal (use --password-stdin)");
		if (!user)
			user = prompt("Username", 0);
		password = prompt("Password", 1);
		if (!user || !password) {
			(void) kiln_fail(&err, KILN_EINVAL, 0, "no credentials given");
			return cli_report(env, &err);
		}
	}
	if (!user || !password) {
		(void) kiln_fail(&err, KILN_ENOMEM, 0, "out of memory");
		return cli_report(env, &err);
	}
	cleanup_free char *where = NULL;
	r = kiln_registry_login(&env->ctx, pos.items[0], user, password, &o, &where, &err);
	explicit_bzero(password, strlen(password));
	if (r < 0)
		return cli_report(env, &err);
	if (where && strncmp(where, "docker-credential-", 18) != 0)
		cli_warn(env, "your password is stored unencrypted in %s", where);
	printf("Login Succeeded\n");
	return CLI_EXIT_OK;
}
